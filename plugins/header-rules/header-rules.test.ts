import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadTestConfig, startGatewayFor, startUpstream } from '../../test/helpers.js';
import { echoedHeaders, httpClient } from '../../test/policies-support.js';

test('header rules change request and response headers', async (t) => {
  const upstream = await startUpstream((_request, response) => {
    response.writeHead(200, {
      'content-type': 'application/json',
      server: 'upstream/1.0',
      'x-powered-by': 'php',
      'cache-control': 'public',
    });
    response.end(JSON.stringify({ headers: _request.headers }));
  });
  t.after(() => upstream.close());
  const { url } = await startGatewayFor(
    t,
    `routes:
  - path: /api/*
    target: ${upstream.url}
    plugins:
      - header-rules:
          request:
            remove: [X-Debug]
            set: { x-gateway: pactown, accept: application/json }
            add: { x-trace: gateway }
          response:
            remove: [server, x-powered-by]
            set: { x-frame-options: DENY }
            add: { cache-control: no-transform }
`,
  );
  const send = httpClient(t);
  const response = await send(`${url}/api/a`, {
    headers: { 'x-debug': '1', accept: 'text/html', 'x-trace': 'client' },
  });
  const seen = echoedHeaders(response);
  assert.equal(seen['x-debug'], undefined);
  assert.equal(seen['x-gateway'], 'pactown');
  assert.equal(seen.accept, 'application/json');
  assert.equal(seen['x-trace'], 'client, gateway');
  assert.equal(response.headers.server, undefined);
  assert.equal(response.headers['x-powered-by'], undefined);
  assert.equal(response.headers['x-frame-options'], 'DENY');
  assert.equal(response.headers['cache-control'], 'public, no-transform');
});

test('header rules cannot change framing headers', async () => {
  await assert.rejects(
    loadTestConfig(
      'routes:\n  - path: /api/*\n    target: http://127.0.0.1:9\n    plugins:\n      - header-rules: { request: { set: { Host: other.test } } }\n',
    ),
    /the request header "Host" cannot be changed by header rules/,
  );
});
