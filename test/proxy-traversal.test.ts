import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createGateway, type Gateway } from '../core/index.js';
import { hasDotSegment } from '../core/proxy/traversal.js';
import { loadTestConfig, rawRequest, startUpstream, type TestUpstream } from './helpers.js';

const attacks = [
  '/api/v1/../admin',
  '/api/v1/..',
  '/api/v1/./x',
  '/api/v1/%2e%2e/admin',
  '/api/v1/%2E%2e/admin',
  '/api/v1/.%2e/admin',
  '/api/v1/%252e%252e/admin',
  '/api/v1/%25252e%25252e/admin',
  '/api/v1/..%2fadmin',
  '/api/v1/..%5cadmin',
  '/api/v1/..\\admin',
  '/api/v1/x/%2e%2e%2f%2e%2e%2fadmin',
  '/api/v1/%2e%2e%2f',
  '/api/v1/%c0%ae%c0%ae/admin',
];

describe('path traversal', () => {
  let upstream: TestUpstream;
  let gateway: Gateway;
  let url: string;

  before(async () => {
    upstream = await startUpstream();
    const loaded = await loadTestConfig(
      `routes:\n  - path: /api/v1\n    target: ${upstream.url}/scoped\n`,
    );
    gateway = await createGateway(loaded, { logger: false });
    url = await gateway.listen(0, '127.0.0.1');
  });

  after(async () => {
    await gateway.close();
    await upstream.close();
  });

  for (const path of attacks) {
    it(`never forwards ${path} outside the prefix`, async () => {
      const before = upstream.requests.length;
      const response = await rawRequest(url, { path });
      const forwarded = upstream.requests.slice(before);
      for (const request of forwarded) {
        const decoded = decodeURIComponent(decodeURIComponent(request.url));
        assert.ok(request.url.startsWith('/scoped/'), `forwarded ${request.url}`);
        assert.ok(!decoded.split(/[/\\]/).includes('..'), `forwarded ${request.url}`);
      }
      if (forwarded.length === 0) {
        assert.ok(response.status >= 400 && response.status < 500, `status ${response.status}`);
      }
    });
  }

  it('rejects dot segments with 400 and a JSON code', async () => {
    const response = await rawRequest(url, { path: '/api/v1/%2e%2e/admin' });
    assert.equal(response.status, 400);
    assert.equal(JSON.parse(response.body).code, 'PACTOWN_ERR_PATH_TRAVERSAL');
  });

  it('forwards names that only contain dots', async () => {
    const response = await rawRequest(url, { path: '/api/v1/file..txt/a..b' });
    assert.equal(response.status, 200);
    assert.equal(upstream.requests.at(-1)!.url, '/scoped/file..txt/a..b');
  });

  it('detects every encoding of a dot segment', () => {
    for (const path of attacks.filter((attack) => !attack.includes('%c0'))) {
      assert.equal(hasDotSegment(path), true, path);
    }
    assert.equal(hasDotSegment('/a/b..c/.d'), false);
  });
});

describe('backslash paths', () => {
  let upstream: TestUpstream;
  let gateway: Gateway;
  let url: string;

  before(async () => {
    upstream = await startUpstream();
    // The root route has no policies and the guarded one denies every client, so a path that
    // the router gives to the root route must not reach the guarded path upstream.
    const loaded = await loadTestConfig(`routes:
  - path: /
    target: ${upstream.url}
  - path: /guarded
    target: ${upstream.url}
    plugins:
      - ip-allow: { allow: [203.0.113.0/24] }
`);
    gateway = await createGateway(loaded, { logger: false });
    url = await gateway.listen(0, '127.0.0.1');
  });

  after(async () => {
    await gateway.close();
    await upstream.close();
  });

  for (const path of [
    '/guarded\\profile',
    '/guarded%5Cprofile',
    '/guarded%255cprofile',
    '/x\\y',
    '//guarded/profile',
    '/%2Fguarded/profile',
    '/%252fguarded/profile',
  ]) {
    it(`rejects ${path} with 400`, async () => {
      const before = upstream.requests.length;
      const response = await rawRequest(url, { path });
      assert.equal(response.status, 400);
      assert.equal(JSON.parse(response.body).code, 'PACTOWN_ERR_PATH_TRAVERSAL');
      assert.equal(upstream.requests.length, before, 'nothing reaches the upstream');
    });
  }

  it('keeps the guarded route closed', async () => {
    const response = await rawRequest(url, { path: '/guarded/profile' });
    assert.equal(response.status, 403);
  });
});
