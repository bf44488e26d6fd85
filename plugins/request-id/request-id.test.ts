import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startGatewayFor, startUpstream } from '../../test/helpers.js';
import { echoedHeaders, httpClient } from '../../test/policies-support.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

test('request id generated, kept or replaced', async (t) => {
  const upstream = await startUpstream();
  t.after(() => upstream.close());
  const { url } = await startGatewayFor(
    t,
    `routes:
  - path: /api/*
    target: ${upstream.url}
    plugins: [request-id]
  - path: /strict/*
    target: ${upstream.url}
    plugins:
      - request-id: { header: x-correlation-id, trust_incoming: false }
`,
  );
  const send = httpClient(t);
  const generated = await send(`${url}/api/a`);
  const id = generated.headers['x-request-id'];
  assert.match(String(id), UUID);
  assert.equal(echoedHeaders(generated)['x-request-id'], id, 'the upstream sees the same id');
  const kept = await send(`${url}/api/a`, { headers: { 'x-request-id': 'abc-123' } });
  assert.equal(kept.headers['x-request-id'], 'abc-123');
  assert.equal(echoedHeaders(kept)['x-request-id'], 'abc-123');
  const invalid = await send(`${url}/api/a`, {
    headers: { 'x-request-id': 'has spaces <script>' },
  });
  assert.match(String(invalid.headers['x-request-id']), UUID);
  const untrusted = await send(`${url}/strict/a`, { headers: { 'x-correlation-id': 'abc-123' } });
  assert.match(String(untrusted.headers['x-correlation-id']), UUID);
  assert.equal(echoedHeaders(untrusted)['x-correlation-id'], untrusted.headers['x-correlation-id']);
});
