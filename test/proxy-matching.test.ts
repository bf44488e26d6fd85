import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createGateway, type Gateway } from '../core/index.js';
import { loadTestConfig, rawRequest, startUpstream, type TestUpstream } from './helpers.js';

describe('route matching', () => {
  const upstreams: TestUpstream[] = [];
  let gateway: Gateway;
  let url: string;

  before(async () => {
    for (let index = 0; index < 5; index++) {
      const name = `upstream-${index}`;
      upstreams.push(
        await startUpstream((request, response) => {
          response.writeHead(200, { 'content-type': 'application/json' });
          response.end(JSON.stringify({ name, url: request.url }));
        }),
      );
    }
    // Written shortest first, so the longest-prefix rule, not file order, must pick the route.
    const loaded = await loadTestConfig(`routes:
  - path: /api/*
    target: ${upstreams[0].url}
  - path: /api/v1
    target: ${upstreams[1].url}
  - path: /api/v1/admin/*
    target: ${upstreams[2].url}
  - path: /files*
    target: ${upstreams[3].url}
  - path: /api/v10
    target: ${upstreams[4].url}
`);
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

  it('answers JSON 404 for an unknown path', async () => {
    const response = await rawRequest(url, { path: '/apix' });
    assert.equal(response.status, 404);
    assert.match(String(response.headers['content-type']), /application\/json/);
    assert.equal(JSON.parse(response.body).code, 'PACTOWN_ERR_ROUTE_NOT_FOUND');
  });
});
