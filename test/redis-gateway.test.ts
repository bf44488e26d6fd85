import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Redis } from 'ioredis';
import type { RedisSettings } from '../core/stores/redis-connection.js';
import { stripeRequest, waitFor } from './delivery-helpers.js';
import { rawRequest, startGatewayFor, startUpstream, type TestUpstream } from './helpers.js';
import { redisForTest } from './redis-helpers.js';

const SECRET = 'whsec_redis_gateway_test_secret';

function gatewayYaml(
  settings: RedisSettings,
  upstream: TestUpstream,
  backend: TestUpstream,
  choices = '',
): string {
  return `
stores:
  redis:
    url: ${settings.url}
    key_prefix: "${settings.keyPrefix}"
${choices}
queue:
  poll_interval: 20ms
routes:
  - path: /api/*
    target: ${upstream.url}
    rate_limit: 3/min
    cache: 60s
  - path: /webhooks/stripe
    provider: stripe
    secret: ${SECRET}
    delivery: queue
    target: ${backend.url}/queued
  - path: /webhooks/stripe-sync
    provider: stripe
    secret: ${SECRET}
    target: ${backend.url}/sync
`;
}

/** Key names under the prefix, with the prefix cut off. */
async function keysOf(settings: RedisSettings): Promise<string[]> {
  const client = new Redis(settings.url);
  try {
    const keys = await client.keys(`${settings.keyPrefix}*`);
    return keys.map((key) => key.slice(settings.keyPrefix.length)).sort();
  } finally {
    client.disconnect();
  }
}

async function exercise(url: string) {
  const statuses = [];
  for (let index = 0; index < 4; index++) {
    statuses.push((await rawRequest(url, { path: `/api/page-${index}` })).status);
  }
  const queued = stripeRequest('evt_gateway_queue', SECRET);
  const first = await rawRequest(url, { method: 'POST', path: '/webhooks/stripe', ...queued });
  const again = await rawRequest(url, { method: 'POST', path: '/webhooks/stripe', ...queued });
  const sync = stripeRequest('evt_gateway_sync', SECRET);
  const forwarded = await rawRequest(url, {
    method: 'POST',
    path: '/webhooks/stripe-sync',
    ...sync,
  });
  return { statuses, first, again, forwarded };
}

async function servers(t: Parameters<typeof redisForTest>[0]) {
  const upstream = await startUpstream((_request, response) => {
    response.writeHead(200, { 'content-type': 'text/plain', 'cache-control': 'max-age=60' });
    response.end('hello');
  });
  const backend = await startUpstream();
  t.after(async () => {
    await upstream.close();
    await backend.close();
  });
  return { upstream, backend };
}

test('redis url alone moves every store', async (t) => {
  const settings = redisForTest(t);
  if (!settings) return;
  const { upstream, backend } = await servers(t);
  const { url } = await startGatewayFor(t, gatewayYaml(settings, upstream, backend));
  const { statuses, first, again, forwarded } = await exercise(url);
  assert.deepEqual(statuses, [200, 200, 200, 429]);
  assert.equal(first.status, 202);
  assert.equal(again.status, 200, 'the repeated event is a duplicate');
  assert.equal(forwarded.status, 200);
  await waitFor(() => backend.requests.length === 2, 5_000, 'both deliveries');

  const keys = await keysOf(settings);
  const has = (start: string) => keys.some((key) => key.startsWith(start));
  assert.ok(has('limit:'), 'rate-limit counters are in Redis');
  assert.ok(has('cache:entry:'), 'cached responses are in Redis');
  assert.ok(has('delivery:d:'), 'the delivery queue is in Redis');
  assert.ok(
    keys.includes('idempotency:webhook:stripe:/webhooks/stripe-sync:evt_gateway_sync'),
    'idempotency keys of sync routes are in Redis',
  );
});

test('redis stores chosen per concern', async (t) => {
  const settings = redisForTest(t);
  if (!settings) return;
  const { upstream, backend } = await servers(t);
  const choices = '  limiter: memory\n  cache: memory\n  idempotency: memory\n  delivery: redis';
  const { url } = await startGatewayFor(t, gatewayYaml(settings, upstream, backend, choices));
  const { statuses, first } = await exercise(url);
  assert.deepEqual(statuses, [200, 200, 200, 429], 'the memory limiter counts');
  assert.equal(first.status, 202);
  await waitFor(() => backend.requests.length === 2, 5_000, 'both deliveries');
  const keys = await keysOf(settings);
  const has = (start: string) => keys.some((key) => key.startsWith(start));
  assert.ok(!has('limit:'), 'no counters in Redis');
  assert.ok(!has('cache:'), 'no cached responses in Redis');
  assert.ok(!has('idempotency:webhook:stripe:/webhooks/stripe-sync'), 'sync keys stay in memory');
  assert.ok(has('delivery:d:'), 'the delivery queue is in Redis');
});
