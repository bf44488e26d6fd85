import assert from 'node:assert/strict';
import { type TestContext, test } from 'node:test';
import { ConfigError } from '../../core/index.js';
import { loadTestConfig, startGatewayFor, startUpstream } from '../../test/helpers.js';
import { httpClient } from '../../test/policies-support.js';

async function startCorsGateway(t: TestContext) {
  const upstream = await startUpstream();
  t.after(() => upstream.close());
  const { url } = await startGatewayFor(
    t,
    `routes:
  - path: /api/*
    target: ${upstream.url}
    plugins:
      - cors: { origin: [https://app.example.com, "https://*.partner.test"], credentials: true, max_age: 10m, exposed_headers: [x-total] }
  - path: /public/*
    target: ${upstream.url}
    plugins: [cors]
`,
  );
  return { url, upstream, send: httpClient(t) };
}

test('cors answers preflight requests', async (t) => {
  const { url, send, upstream } = await startCorsGateway(t);
  const preflight = await send(`${url}/api/orders`, {
    method: 'OPTIONS',
    headers: {
      origin: 'https://app.example.com',
      'access-control-request-method': 'PUT',
      'access-control-request-headers': 'content-type',
    },
  });
  assert.equal(preflight.status, 204);
  assert.equal(preflight.headers['access-control-allow-origin'], 'https://app.example.com');
  assert.equal(preflight.headers['access-control-allow-credentials'], 'true');
  assert.equal(
    preflight.headers['access-control-allow-methods'],
    'GET, HEAD, PUT, PATCH, POST, DELETE',
  );
  assert.equal(preflight.headers['access-control-allow-headers'], 'content-type');
  assert.equal(preflight.headers['access-control-max-age'], '600');
  assert.equal(upstream.requests.length, 0, 'a preflight is answered by the gateway');
});

test('cors headers on actual requests', async (t) => {
  const { url, send } = await startCorsGateway(t);
  const allowed = await send(`${url}/api/orders`, {
    headers: { origin: 'https://app.example.com' },
  });
  assert.equal(allowed.status, 200);
  assert.equal(allowed.headers['access-control-allow-origin'], 'https://app.example.com');
  assert.equal(allowed.headers['access-control-expose-headers'], 'x-total');
  assert.match(String(allowed.headers.vary), /Origin/);
  const subdomain = await send(`${url}/api/orders`, {
    headers: { origin: 'https://eu.partner.test' },
  });
  assert.equal(subdomain.headers['access-control-allow-origin'], 'https://eu.partner.test');
  const nested = await send(`${url}/api/orders`, {
    headers: { origin: 'https://a.b.partner.test' },
  });
  assert.equal(
    nested.headers['access-control-allow-origin'],
    undefined,
    'one subdomain level only',
  );
  const stranger = await send(`${url}/api/orders`, { headers: { origin: 'https://evil.test' } });
  assert.equal(stranger.status, 200);
  assert.equal(stranger.headers['access-control-allow-origin'], undefined);
  const open = await send(`${url}/public/a`, { headers: { origin: 'https://anyone.test' } });
  assert.equal(open.headers['access-control-allow-origin'], '*');
});

test('cors leaves other OPTIONS requests to the upstream', async (t) => {
  const { url, send, upstream } = await startCorsGateway(t);
  const plain = await send(`${url}/public/a`, { method: 'OPTIONS' });
  assert.equal(plain.status, 200);
  assert.equal(upstream.requests.length, 1);
  assert.equal(upstream.requests[0].method, 'OPTIONS');
});

test('cors with credentials needs listed origins', async () => {
  await assert.rejects(
    loadTestConfig(
      'routes:\n  - path: /api/*\n    target: http://127.0.0.1:9\n    plugins:\n      - cors: { credentials: true }\n',
    ),
    (error: unknown) => {
      assert.ok(error instanceof ConfigError);
      assert.match(error.issues[0].message, /credentials: true cannot be used with origin "\*"/);
      assert.equal(error.issues[0].line, 5);
      return true;
    },
  );
});
