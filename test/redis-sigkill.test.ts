import assert from 'node:assert/strict';
import type { ServerResponse } from 'node:http';
import type { TestContext } from 'node:test';
import { test } from 'node:test';
import { RedisDeliveryBackend } from '../core/delivery/redis-backend.js';
import { silentLog, stripeRequest, waitFor } from './delivery-helpers.js';
import { rawRequest, spawnGateway, startUpstream, writeConfig } from './helpers.js';
import { redisForTest } from './redis-helpers.js';

const SECRET = 'whsec_redis_sigkill_test_secret';
const EVENTS = 40;
/** Attempts each instance keeps in flight to one target (`queue.target_concurrency`). */
const SLOTS = 4;

/** The line a surviving instance logs when it takes back the killed instance's deliveries. */
const TAKEN_BACK: Record<string, string> = {
  redis: 'took back deliveries in flight at workers that stopped sending heartbeats',
  bullmq: 'took back a delivery whose worker stopped renewing its lock',
};

for (const engine of ['redis', 'bullmq']) {
  test(`${engine}: sigkill of one process leaves its work to the other`, { timeout: 90_000 }, (t) =>
    sigkillScenario(t, engine),
  );
}

async function sigkillScenario(t: TestContext, engine: string): Promise<void> {
  const settings = redisForTest(t);
  if (!settings) return;
  // The backend holds every request until released, so both instances fill their slots.
  let holding = true;
  const held: ServerResponse[] = [];
  const deliveries = new Map<string, Set<string>>();
  const answered = new Set<string>();
  const backend = await startUpstream((request, response) => {
    const eventId = JSON.parse(request.body.toString()).id as string;
    const ids = deliveries.get(eventId) ?? new Set<string>();
    ids.add(String(request.headers['x-pactown-delivery-id']));
    deliveries.set(eventId, ids);
    if (holding) {
      held.push(response);
      return;
    }
    answered.add(eventId);
    response.end('ok');
  });
  t.after(() => backend.close());
  const config = writeConfig(`
server:
  log_level: info
stores:
  redis:
    url: \${REDIS_URL}
    key_prefix: "${settings.keyPrefix}"
    worker_heartbeat: 200ms
  delivery: ${engine}
queue:
  target_concurrency: ${SLOTS}
  poll_interval: 50ms
  timeout: 20s
routes:
  - path: /webhooks/stripe
    provider: stripe
    secret: ${SECRET}
    delivery: queue
    target: ${backend.url}/events
`);
  const env = { REDIS_URL: settings.url };
  const [victim, survivor] = await Promise.all([
    spawnGateway(t, config, env),
    spawnGateway(t, config, env),
  ]);

  for (let index = 0; index < EVENTS; index++) {
    const { body, headers } = stripeRequest(`evt_kill_${index}`, SECRET);
    const url = index % 2 === 0 ? victim.url : survivor.url;
    const response = await rawRequest(url, {
      method: 'POST',
      path: '/webhooks/stripe',
      headers,
      body,
    });
    assert.equal(response.status, 202, `event ${index} is queued`);
  }
  await waitFor(() => held.length === 2 * SLOTS, 10_000, 'both processes to fill their slots');

  victim.child.kill('SIGKILL');
  await victim.exited;
  holding = false;
  for (const response of held) {
    if (!response.destroyed) {
      response.end('ok');
    }
  }

  const store = new RedisDeliveryBackend(settings, silentLog, engine as 'redis').openStore();
  t.after(() => store.close());
  await waitFor(
    async () => (await store.counts()).delivered === EVENTS,
    30_000,
    'every event recorded as delivered',
  );
  assert.equal(deliveries.size, EVENTS, 'every event reached the backend');
  for (const [eventId, ids] of deliveries) {
    assert.equal(ids.size, 1, `${eventId} keeps one delivery id across attempts`);
  }
  const takenBack = survivor.logs.filter((line) => line.msg === TAKEN_BACK[engine]);
  assert.ok(takenBack.length >= 1, 'the survivor takes back what the killed process held');
  assert.equal(survivor.child.exitCode, null, 'the survivor is still running');
}
