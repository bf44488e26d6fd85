import assert from 'node:assert/strict';
import { type TestContext, test } from 'node:test';
import type { RedisSettings } from '../core/stores/redis-connection.js';
import { stripeRequest, waitFor } from './delivery-helpers.js';
import {
  type GatewayProcess,
  rawRequest,
  spawnGateway,
  startUpstream,
  type TestUpstream,
  writeConfig,
} from './helpers.js';
import { redisForTest } from './redis-helpers.js';

const SECRET = 'whsec_two_processes_test_secret';

/** Two `pactown start` processes on one config whose stores all live in the test Redis. */
async function twoGateways(
  t: TestContext,
  settings: RedisSettings,
  upstream: TestUpstream,
  backend: TestUpstream,
): Promise<[GatewayProcess, GatewayProcess]> {
  const config = writeConfig(`
server:
  log_level: info
stores:
  redis:
    url: \${REDIS_URL}
    key_prefix: "${settings.keyPrefix}"
routes:
  - path: /api/limited/*
    target: ${upstream.url}
    rate_limit: 10/min
  - path: /api/cached/*
    target: ${upstream.url}
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
`);
  const env = { REDIS_URL: settings.url };
  return Promise.all([spawnGateway(t, config, env), spawnGateway(t, config, env)]);
}

async function setup(t: TestContext) {
  const settings = redisForTest(t);
  if (!settings) {
    return undefined;
  }
  const upstream = await startUpstream((request, response) => {
    response.writeHead(200, { 'content-type': 'text/plain', 'cache-control': 'max-age=60' });
    response.end(`upstream ${request.url}`);
  });
  const backend = await startUpstream();
  t.after(async () => {
    await upstream.close();
    await backend.close();
  });
  const gateways = await twoGateways(t, settings, upstream, backend);
  return { upstream, backend, gateways };
}

function postStripe(url: string, path: string, id: string) {
  const { body, headers } = stripeRequest(id, SECRET);
  return rawRequest(url, { method: 'POST', path, headers, body });
}

test('two processes share one rate limit', { timeout: 60_000 }, async (t) => {
  const context = await setup(t);
  if (!context) return;
  const [a, b] = context.gateways;
  const statuses = await Promise.all(
    Array.from({ length: 30 }, (_, index) =>
      rawRequest(index % 2 === 0 ? a.url : b.url, { path: `/api/limited/${index}` }),
    ),
  );
  const admitted = statuses.filter((response) => response.status === 200);
  const limited = statuses.filter((response) => response.status === 429);
  assert.equal(admitted.length, 10, 'a 10/min limit admits 10 of 30 requests');
  assert.equal(limited.length, 20);
  assert.equal(JSON.parse(limited[0].body).code, 'PACTOWN_ERR_RATE_LIMITED');
  assert.equal(context.upstream.requests.length, 10, 'only admitted requests reach the upstream');
});

test('two processes deliver one stripe event once', { timeout: 60_000 }, async (t) => {
  const context = await setup(t);
  if (!context) return;
  const [a, b] = context.gateways;
  const queued = await Promise.all([
    postStripe(a.url, '/webhooks/stripe', 'evt_shared_queue'),
    postStripe(b.url, '/webhooks/stripe', 'evt_shared_queue'),
  ]);
  assert.deepEqual(
    queued.map((response) => response.status).sort(),
    [200, 202],
    'one process queues it, the other answers duplicate',
  );
  const duplicate = JSON.parse(queued.find((response) => response.status === 200)!.body);
  const accepted = JSON.parse(queued.find((response) => response.status === 202)!.body);
  assert.equal(duplicate.status, 'duplicate');
  assert.equal(duplicate.delivery_id, accepted.delivery_id, 'the duplicate names the delivery');

  const sync = await Promise.all([
    postStripe(a.url, '/webhooks/stripe-sync', 'evt_shared_sync'),
    postStripe(b.url, '/webhooks/stripe-sync', 'evt_shared_sync'),
  ]);
  assert.deepEqual(
    sync.map((response) => response.status),
    [200, 200],
  );
  const bodies = sync.map((response) => JSON.parse(response.body) as { status?: string });
  assert.equal(bodies.filter((body) => body.status === 'duplicate').length, 1);

  await waitFor(
    () => context.backend.requests.some((request) => request.url === '/queued'),
    10_000,
    'the queued delivery',
  );
  // Both workers poll the queue every second; a second delivery would arrive within that time.
  await new Promise((resolve) => setTimeout(resolve, 1_500));
  const byPath = (path: string) =>
    context.backend.requests.filter((request) => request.url === path).length;
  assert.equal(byPath('/queued'), 1, 'the queued event is delivered once');
  assert.equal(byPath('/sync'), 1, 'the sync event is forwarded once');
});

test('two processes share cached entries', { timeout: 60_000 }, async (t) => {
  const context = await setup(t);
  if (!context) return;
  const [a, b] = context.gateways;
  // Behind a load balancer every instance gets the same Host, which is part of the cache key.
  const page = { path: '/api/cached/page', headers: { host: 'api.example.test' } };
  const miss = await rawRequest(a.url, page);
  assert.equal(miss.status, 200);
  assert.equal(miss.headers['x-cache'], 'MISS');
  // The entry is written after the response is sent; wait until it is there.
  await waitFor(
    async () => (await rawRequest(a.url, page)).headers['x-cache'] === 'HIT',
    5_000,
    'the entry to be stored',
  );
  const upstreamHits = context.upstream.requests.length;
  const hit = await rawRequest(b.url, page);
  assert.equal(hit.status, 200);
  assert.equal(
    hit.headers['x-cache'],
    'HIT',
    'filled through one process, a hit through the other',
  );
  assert.equal(hit.body, miss.body, 'the hit carries the stored body');
  assert.equal(context.upstream.requests.length, upstreamHits, 'the hit reaches no upstream');
});
