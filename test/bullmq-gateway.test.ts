import assert from 'node:assert/strict';
import { type TestContext, test } from 'node:test';
import { stripeRequest, waitFor } from './delivery-helpers.js';
import {
  type GatewayProcess,
  rawRequest,
  spawnGateway,
  startUpstream,
  type TestUpstream,
  writeConfig,
} from './helpers.js';
import { redisForTest, startOwnRedis } from './redis-helpers.js';

const SECRET = 'whsec_bullmq_gateway_test_secret';
const ADMIN_TOKEN = 'admin-token-for-bullmq-tests-0123';

/** Writes a config whose webhook route queues in BullMQ on `redisUrl`. */
function bullmqConfig(redisUrl: string, keyPrefix: string, backend: TestUpstream): string {
  return writeConfig(`
server:
  log_level: info
stores:
  redis:
    url: ${redisUrl}
    key_prefix: "${keyPrefix}"
    worker_heartbeat: 200ms
  delivery: bullmq
admin:
  token: ${ADMIN_TOKEN}
queue:
  poll_interval: 50ms
  retry_jitter: 0
routes:
  - path: /webhooks/stripe
    provider: stripe
    secret: ${SECRET}
    delivery: queue
    target: ${backend.url}/events
    retry_schedule: [200ms, 200ms, 200ms, 200ms, 200ms, 200ms, 200ms, 200ms, 200ms, 200ms]
`);
}

function postStripe(gateway: GatewayProcess, id: string) {
  const { body, headers } = stripeRequest(id, SECRET);
  return rawRequest(gateway.url, { method: 'POST', path: '/webhooks/stripe', headers, body });
}

/** Event ids of the backend's requests, one entry per request. */
function deliveredIds(backend: TestUpstream): string[] {
  return backend.requests.map((request) => JSON.parse(request.body.toString()).id as string);
}

test('bullmq: two processes share one queue', { timeout: 60_000 }, async (t: TestContext) => {
  const settings = redisForTest(t);
  if (!settings) return;
  const backend = await startUpstream();
  t.after(() => backend.close());
  const config = bullmqConfig('${REDIS_URL}', settings.keyPrefix, backend);
  const env = { REDIS_URL: settings.url };
  const [a, b] = await Promise.all([spawnGateway(t, config, env), spawnGateway(t, config, env)]);

  const both = await Promise.all([
    postStripe(a, 'evt_bull_shared'),
    postStripe(b, 'evt_bull_shared'),
  ]);
  assert.deepEqual(
    both.map((response) => response.status).sort(),
    [200, 202],
    'one process queues it, the other answers duplicate',
  );
  const duplicate = JSON.parse(both.find((response) => response.status === 200)!.body);
  const accepted = JSON.parse(both.find((response) => response.status === 202)!.body);
  assert.equal(duplicate.status, 'duplicate');
  assert.equal(duplicate.delivery_id, accepted.delivery_id, 'the duplicate names the delivery');

  const events = Array.from({ length: 20 }, (_, index) => `evt_bull_${index}`);
  for (const [index, id] of events.entries()) {
    const response = await postStripe(index % 2 === 0 ? a : b, id);
    assert.equal(response.status, 202, `${id} is queued`);
  }
  await waitFor(
    () => new Set(deliveredIds(backend)).size === events.length + 1,
    15_000,
    'every queued event delivered',
  );
  // Both workers poll every 50 ms; a second delivery of any event would arrive within this.
  await new Promise((resolve) => setTimeout(resolve, 500));
  const ids = deliveredIds(backend);
  assert.equal(ids.length, events.length + 1, 'each event is delivered once');
  assert.equal(a.child.exitCode, null);
  assert.equal(b.child.exitCode, null);
});

test('bullmq: redis outage refuses and recovers', { timeout: 90_000 }, async (t) => {
  if (!process.env.REDIS_URL && process.env.PACTOWN_REQUIRE_REDIS !== '1') {
    // This test starts a Redis of its own, but runs with the other Redis tests.
    t.skip('REDIS_URL is not set; set REDIS_URL=redis://127.0.0.1:6379 to run the Redis tests');
    return;
  }
  const redis = await startOwnRedis(t, { persistent: true });
  let backendUp = false;
  const delivered = new Set<string>();
  const backend = await startUpstream((request, response) => {
    if (backendUp) {
      delivered.add(JSON.parse(request.body.toString()).id as string);
    }
    response.writeHead(backendUp ? 200 : 503);
    response.end();
  });
  t.after(() => backend.close());
  const gateway = await spawnGateway(t, bullmqConfig(redis.url, 'pactown:', backend));

  for (const id of ['evt_before_1', 'evt_before_2', 'evt_before_3']) {
    assert.equal((await postStripe(gateway, id)).status, 202, `${id} is queued`);
  }
  await redis.kill();
  const refused = await postStripe(gateway, 'evt_during');
  assert.equal(refused.status, 503, 'a webhook that cannot be stored is not acknowledged');
  assert.equal(JSON.parse(refused.body).code, 'PACTOWN_ERR_DELIVERY_STORE_UNAVAILABLE');
  assert.equal(refused.headers['retry-after'], '5');
  const listing = await rawRequest(gateway.url, {
    path: '/admin/deliveries',
    headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
  });
  assert.equal(listing.status, 503, 'the admin API reports the store as unavailable');
  assert.equal(JSON.parse(listing.body).code, 'PACTOWN_ERR_DELIVERY_STORE_UNAVAILABLE');
  await new Promise((resolve) => setTimeout(resolve, 1_500));
  assert.equal(gateway.child.exitCode, null, 'the gateway keeps running');

  await redis.start();
  backendUp = true;
  await waitFor(
    async () => (await postStripe(gateway, 'evt_during')).status === 202,
    15_000,
    'the provider retry to be queued',
  );
  await waitFor(() => delivered.size === 4, 20_000, 'every acknowledged event delivered');
  for (const id of ['evt_before_1', 'evt_before_2', 'evt_before_3', 'evt_during']) {
    assert.ok(delivered.has(id), `${id}, acknowledged, is delivered after the restart`);
  }
  const closed = gateway.logs.filter(
    (line) => line.msg === 'redis connection closed, reconnecting',
  );
  // The stores share one client and BullMQ's workers have their own: each logs the outage once.
  assert.equal(closed.length, 2, 'the outage is logged once per client');
  const workerFailures = gateway.logs.filter((line) => line.msg === 'bullmq worker failed');
  assert.ok(workerFailures.length <= 1, 'bullmq worker errors are logged once a minute at most');
  assert.ok(
    gateway.logs.every((line) => line.level !== 60),
    'nothing is logged as fatal',
  );
  assert.equal(gateway.child.exitCode, null, 'the gateway is still running');
});
