import assert from 'node:assert/strict';
import { type TestContext, test } from 'node:test';
import { listDeliveries, replayDelivery, showDelivery } from '../core/delivery/operations.js';
import { openRedisDeliveryStore } from '../core/delivery/redis-backend.js';
import { silentLog, stripeRequest, waitFor } from './delivery-helpers.js';
import { loadTestConfig, startGatewayFor, startUpstream } from './helpers.js';
import { redisForTest } from './redis-helpers.js';

const SECRET = 'whsec_redis_admin_test_secret';
const ADMIN_TOKEN = 'admin-token-for-redis-tests-0123';

async function admin(url: string, path: string, init: RequestInit = {}) {
  const response = await fetch(`${url}${path}`, {
    ...init,
    headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
  });
  // biome-ignore lint/suspicious/noExplicitAny: the tests read many shapes of admin responses.
  return { status: response.status, body: (await response.json()) as Record<string, any> };
}

for (const engine of ['redis', 'bullmq']) {
  test(`${engine} queue keeps the admin api and cli`, (t) => adminScenario(t, engine));
}

async function adminScenario(t: TestContext, engine: string): Promise<void> {
  const settings = redisForTest(t);
  if (!settings) return;
  let failing = true;
  const target = await startUpstream((_request, response) => {
    response.writeHead(failing ? 500 : 200);
    response.end(failing ? 'broken' : 'ok');
  });
  t.after(() => target.close());
  const yaml = `
stores:
  redis:
    url: ${settings.url}
    key_prefix: "${settings.keyPrefix}"
  delivery: ${engine}
admin:
  token: ${ADMIN_TOKEN}
queue:
  poll_interval: 20ms
  retry_jitter: 0
routes:
  - path: /webhooks/stripe
    provider: stripe
    secret: ${SECRET}
    delivery: queue
    target: ${target.url}/events
    retry_schedule: [50ms, 50ms]
`;
  const { url } = await startGatewayFor(t, yaml);
  const ids: string[] = [];
  for (const event of ['evt_admin_1', 'evt_admin_2']) {
    const { body, headers } = stripeRequest(event, SECRET);
    const response = await fetch(`${url}/webhooks/stripe`, { method: 'POST', body, headers });
    ids.push(((await response.json()) as { delivery_id: string }).delivery_id);
  }
  await waitFor(
    async () => (await admin(url, '/admin/deliveries?status=dead')).body.deliveries?.length === 2,
    5_000,
    'two dead letters',
  );
  const page = await admin(url, '/admin/deliveries?status=dead&provider=stripe&limit=1');
  assert.equal(page.body.deliveries[0].id, ids[1], 'newest first');
  const next = await admin(
    url,
    `/admin/deliveries?status=dead&limit=1&cursor=${page.body.next_cursor}`,
  );
  assert.equal(next.body.deliveries[0].id, ids[0]);
  assert.equal(next.body.next_cursor, undefined);
  const shown = await admin(url, `/admin/deliveries/${ids[0]}`);
  assert.equal(shown.body.attempt_log.length, 3);
  assert.equal(shown.body.attempt_log[0].response_excerpt, 'broken');
  assert.equal(JSON.parse(shown.body.body).id, 'evt_admin_1');

  failing = false;
  const replayed = await admin(url, `/admin/deliveries/${ids[0]}/replay`, { method: 'POST' });
  assert.equal(replayed.status, 202);
  await waitFor(
    async () => (await admin(url, `/admin/deliveries/${ids[0]}`)).body.status === 'delivered',
    5_000,
    'the replayed delivery',
  );

  // What `pactown deliveries` does: open the store of the config, without the gateway.
  const { config } = await loadTestConfig(yaml);
  const store = openRedisDeliveryStore(config, silentLog);
  assert.ok(store, 'the config keeps its queue in Redis');
  t.after(() => store.close());
  const listed = await listDeliveries(store, { status: 'dead' }, { limit: 10 });
  assert.deepEqual(
    listed.deliveries.map((delivery) => delivery.id),
    [ids[1]],
  );
  assert.equal((await showDelivery(store, ids[1]))?.status, 'dead');
  assert.equal(await replayDelivery(store, ids[1], Date.now()), 'replayed');
  await waitFor(
    async () => (await admin(url, `/admin/deliveries/${ids[1]}`)).body.status === 'delivered',
    5_000,
    'the delivery replayed outside the gateway',
  );
}
