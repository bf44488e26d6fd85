import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createGateway, type Gateway } from '../core/index.js';
import { loadTestConfig, rawRequest, startUpstream, type TestUpstream } from './helpers.js';

/** Route paths that nest in each other and share leading characters. */
const PATHS = ['/api', '/api/v1', '/api/v1/admin', '/api/v10', '/files/x', '/a.b', '/p%41th'];

/** Path pieces that the router, the table and the path checks treat differently. */
const PIECES = [
  'api',
  'v1',
  'v10',
  'admin',
  'files',
  'x',
  'a.b',
  'p%41th',
  'pAth',
  '%61pi',
  'v%31',
  '%2e',
  '%2e%2e',
  '.',
  '..',
  '',
  '%2f',
  '%5c',
  'a%20b',
  '%C3%A9',
  '~',
];

/** A small deterministic generator, so a failure names a path that can be sent again. */
function pathsFor(count: number): string[] {
  let seed = 12345;
  const next = (limit: number) => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed % limit;
  };
  const paths: string[] = [];
  for (let index = 0; index < count; index++) {
    const segments = Array.from({ length: 1 + next(4) }, () => PIECES[next(PIECES.length)]);
    const query = next(3) === 0 ? '?q=1&b=%20' : '';
    paths.push(`/${segments.join('/')}${next(5) === 0 ? '/' : ''}${query}`);
  }
  return paths;
}

async function startLayout(upstreams: TestUpstream[], policy: string): Promise<Gateway> {
  const routes = PATHS.map(
    (path, index) => `  - path: ${path}\n    target: ${upstreams[index].url}/t${index}\n${policy}`,
  );
  const loaded = await loadTestConfig(`routes:\n${routes.join('')}`);
  return createGateway(loaded, { logger: false });
}

describe('shared table parity', () => {
  const upstreams: TestUpstream[] = [];
  let table: Gateway;
  let own: Gateway;
  const urls: string[] = [];

  before(async () => {
    for (let index = 0; index < PATHS.length; index++) {
      upstreams.push(
        await startUpstream((request, response) => {
          response.writeHead(200, { 'content-type': 'text/plain' });
          response.end(`${index} ${request.url}`);
        }),
      );
    }
    table = await startLayout(upstreams, '');
    own = await startLayout(upstreams, '    plugins: [request-id]\n');
    urls.push(await table.listen(0, '127.0.0.1'), await own.listen(0, '127.0.0.1'));
  });

  after(async () => {
    await table.close();
    await own.close();
    await Promise.all(upstreams.map((upstream) => upstream.close()));
  });

  it('routes and maps every path as own routes do', async () => {
    const mismatches: string[] = [];
    for (const path of pathsFor(400)) {
      const [shared, reference] = await Promise.all(urls.map((url) => rawRequest(url, { path })));
      const sharedCode = shared.status === 200 ? shared.body : JSON.parse(shared.body).code;
      const ownCode = reference.status === 200 ? reference.body : JSON.parse(reference.body).code;
      if (shared.status !== reference.status || sharedCode !== ownCode) {
        mismatches.push(
          `${path}: table ${shared.status} ${sharedCode}, own ${reference.status} ${ownCode}`,
        );
      }
    }
    assert.deepEqual(mismatches, []);
  });

  it('routes a path of thousands of segments', async () => {
    const path = `/api/v1${'/x'.repeat(3000)}`;
    for (const url of urls) {
      const response = await rawRequest(url, { path });
      assert.equal(response.status, 200);
      assert.equal(response.body, `1 /t1${'/x'.repeat(3000)}`);
    }
  });
});
