import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startGatewayFor, startUpstream } from './helpers.js';
import { echoedHeaders, httpClient } from './policies-support.js';

test('global plugins apply unless excluded', async (t) => {
  const upstream = await startUpstream();
  t.after(() => upstream.close());
  const { url } = await startGatewayFor(
    t,
    `global_plugins:
  - header-rules: { request: { set: { x-global: yes } } }
  - rate-limit: { max: 1, window: 1m }
routes:
  - path: /one/*
    target: ${upstream.url}
  - path: /two/*
    target: ${upstream.url}
    plugins:
      - header-rules: { request: { set: { x-global: overridden } } }
    exclude: [header-rules]
  - path: /health-check/*
    target: ${upstream.url}
    exclude: [rate-limit, header-rules]
`,
  );
  const send = httpClient(t);
  const one = await send(`${url}/one/a`);
  assert.equal(echoedHeaders(one)['x-global'], 'yes');
  assert.equal(one.headers['x-ratelimit-limit'], '1');
  assert.equal((await send(`${url}/one/a`)).status, 429, 'the global limit applies per route');
  const two = await send(`${url}/two/a`);
  assert.equal(
    echoedHeaders(two)['x-global'],
    'overridden',
    'a route may replace an excluded global',
  );
  assert.equal(two.status, 200, 'each route counts its own requests');
  const free = [await send(`${url}/health-check/a`), await send(`${url}/health-check/a`)];
  assert.deepEqual(
    free.map((response) => response.status),
    [200, 200],
  );
  assert.equal(free[0].headers['x-ratelimit-limit'], undefined);
  assert.equal(echoedHeaders(free[0])['x-global'], undefined);
});
