import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createGateway, type Gateway } from '../core/index.js';
import { loadTestConfig, rawRequest, startUpstream, type TestUpstream } from './helpers.js';

/**
 * Route layouts that must match alike: plain routes served by the shared table, every route
 * with Fastify routes of its own (a policy on each), and a mix of the two nested in each other.
 */
const LAYOUTS: [string, (index: number) => string][] = [
  ['shared table', () => ''],
  ['own routes', () => '    plugins: [request-id]\n'],
  ['mixed', (index) => (index === 1 ? '    plugins: [request-id]\n' : '')],
];

for (const [layout, policiesOf] of LAYOUTS) {
  describe(`route matching, ${layout}`, () => {
    const upstreams: TestUpstream[] = [];
    let gateway: Gateway;
    let url: string;

    before(async () => {
      for (let index = 0; index < 5; index++) {
        const name = `upstream-${index}`;
        upstreams.push(
          await startUpstream((request, response) => {
            const headers: Record<string, string> = { 'content-type': 'application/json' };
            if (request.url?.startsWith('/moved')) {
              headers.location = '/moved/here';
            }
            response.writeHead(request.url?.startsWith('/moved') ? 302 : 200, headers);
            response.end(JSON.stringify({ name, url: request.url }));
          }),
        );
      }
      const paths = ['/api/*', '/api/v1', '/api/v1/admin/*', '/files*', '/api/v10'];
      // Written shortest first, so the longest-prefix rule, not file order, must pick the route.
      const routes = paths.map(
        (path, index) =>
          `  - path: ${path}\n    target: ${upstreams[index].url}\n${policiesOf(index)}`,
      );
      const loaded = await loadTestConfig(`routes:\n${routes.join('')}`);
      gateway = await createGateway(loaded, { logger: false });
      url = await gateway.listen(0, '127.0.0.1');
    });

    after(async () => {
      await gateway.close();
      await Promise.all(upstreams.map((upstream) => upstream.close()));
    });

    const expectations: [string, string, string][] = [
      ['/api/v1', 'upstream-1', '/'],
      ['/api/v1/', 'upstream-1', '/'],
      ['/api/v1/users/7', 'upstream-1', '/users/7'],
      ['/api/v10', 'upstream-4', '/'],
      ['/api/v10/x', 'upstream-4', '/x'],
      ['/api/v100', 'upstream-0', '/v100'],
      ['/api/v1/admin/stats', 'upstream-2', '/stats'],
      ['/api/v1/administrator', 'upstream-1', '/administrator'],
      ['/api/other', 'upstream-0', '/other'],
      ['/api/v%31/users', 'upstream-1', '/users'],
      ['/api/%76%31%30/x%20y', 'upstream-4', '/x%20y'],
      ['/files', 'upstream-3', '/'],
      ['/files2024/report', 'upstream-3', '/2024/report'],
      ['/files/a.txt', 'upstream-3', '/a.txt'],
    ];

    for (const [path, name, forwarded] of expectations) {
      it(`routes ${path} to ${name}`, async () => {
        const response = await rawRequest(url, { path });
        assert.equal(response.status, 200, response.body);
        const body = JSON.parse(response.body);
        assert.equal(body.name, name);
        assert.equal(body.url, forwarded);
      });
    }

    it('rejects a path that maps to //', async () => {
      const response = await rawRequest(url, { path: '/api/v1//twice' });
      assert.equal(response.status, 400);
      const body = JSON.parse(response.body);
      assert.equal(body.route, '/api/v1');
      assert.equal(body.code, 'PACTOWN_ERR_PATH_TRAVERSAL');
      // /api/v1 has /api/v1/admin below it, so the "//" itself is rejected.
      assert.match(body.error, /path contains "\/\/" or an encoded "\/"/);
      const leaf = await rawRequest(url, { path: '/api/v10//x' });
      assert.equal(leaf.status, 400);
      assert.match(JSON.parse(leaf.body).error, /path maps outside the route target/);
    });

    it('rewrites Location to the route prefix', async () => {
      const response = await rawRequest(url, { path: '/api/v1/moved' });
      assert.equal(response.status, 302);
      assert.equal(response.headers.location, '/api/v1/moved/here');
    });

    it('counts requests per route', async () => {
      await rawRequest(url, { path: '/api/v10/counted' });
      const stats = JSON.parse((await rawRequest(url, { path: '/stats' })).body);
      assert.ok(stats.routes['/api/v10'].requests >= 1);
    });

    it('answers JSON 404 for an unknown path', async () => {
      const response = await rawRequest(url, { path: '/apix' });
      assert.equal(response.status, 404);
      assert.match(String(response.headers['content-type']), /application\/json/);
      assert.equal(JSON.parse(response.body).code, 'PACTOWN_ERR_ROUTE_NOT_FOUND');
    });
  });
}
