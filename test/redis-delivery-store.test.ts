import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RedisDeliveryStore } from '../core/delivery/redis-store.js';
import type { ClaimRequest } from '../core/delivery/store.js';
import { DeliveryWorker } from '../core/delivery/worker.js';
import { silentLog, waitFor } from './delivery-helpers.js';
import { startUpstream } from './helpers.js';
import {
  flushPrefix,
  leaseFor,
  redisForTest,
  redisUrlForSuites,
  suiteSettings,
} from './redis-helpers.js';
import { deliveryStoreSuite, sampleDelivery } from './stores/delivery-store-suite.js';

const url = redisUrlForSuites('delivery store contract');

if (url) {
  deliveryStoreSuite('redis', async () => {
    const settings = suiteSettings(url, 'delivery');
    const store = new RedisDeliveryStore(leaseFor(settings));
    return {
      store,
      dispose: async () => {
        await store.close();
        await flushPrefix(settings);
      },
    };
  });
}

const everySlot = () => 100;

function claimAt(now: number, leaseMs = 60_000, limit = 100): ClaimRequest {
  return { now, leaseMs, limit, freeSlots: everySlot };
}

test('redis queue claims each delivery once', async (t) => {
  const settings = redisForTest(t);
  if (!settings) return;
  // Separate connections (the timeouts differ), as two gateway instances would have.
  const stores = [0, 1].map(
    (index) =>
      new RedisDeliveryStore(leaseFor({ ...settings, commandTimeoutMs: 1_000 + index }), {
        heartbeatMs: 60_000,
      }),
  );
  t.after(() => Promise.all(stores.map((store) => store.close())));
  const ids = [];
  for (let index = 0; index < 200; index++) {
    const delivery = sampleDelivery({ target: `http://t${index % 5}` });
    ids.push(delivery.id);
    await stores[index % 2].enqueue(delivery);
  }
  const claimed: string[] = [];
  // Both stores claim in small batches at once until the queue is empty.
  const drain = async (store: RedisDeliveryStore) => {
    for (;;) {
      const batch = await store.claim(claimAt(2_000, 60_000, 7));
      claimed.push(...batch.map((delivery) => delivery.id));
      if (batch.length === 0 && (await store.counts()).pending === 0) {
        return;
      }
    }
  };
  await Promise.all([drain(stores[0]), drain(stores[1]), drain(stores[0]), drain(stores[1])]);
  assert.equal(new Set(claimed).size, claimed.length, 'no delivery is claimed twice');
  assert.deepEqual(claimed.sort(), ids.sort(), 'every delivery is claimed');
});

test('redis queue takes back a dead worker', async (t) => {
  const settings = redisForTest(t);
  if (!settings) return;
  const dying = new RedisDeliveryStore(leaseFor(settings), { heartbeatMs: 100 });
  const survivor = new RedisDeliveryStore(leaseFor({ ...settings, commandTimeoutMs: 1_001 }), {
    heartbeatMs: 100,
  });
  t.after(() => survivor.close());
  const delivery = sampleDelivery({ receivedAt: Date.now() });
  await dying.enqueue(delivery);
  const [held] = await dying.claim(claimAt(Date.now(), 3_600_000));
  assert.equal(held.id, delivery.id);
  assert.deepEqual(await survivor.claim(claimAt(Date.now(), 3_600_000)), []);
  // Closing stops the heartbeat without releasing, as a SIGKILL would.
  await dying.close();
  await waitFor(
    async () => (await survivor.claim(claimAt(Date.now(), 3_600_000))).length === 1,
    5_000,
    'the survivor to claim the delivery of the silent worker',
  );
  assert.equal((await survivor.get(delivery.id))?.status, 'in_flight');
});

test('redis queue replay puts an older ordered delivery first', async (t) => {
  const settings = redisForTest(t);
  if (!settings) return;
  const store = new RedisDeliveryStore(leaseFor(settings));
  t.after(() => store.close());
  const older = sampleDelivery({ orderKey: 'http://o' });
  const newer = sampleDelivery({ orderKey: 'http://o' });
  await store.enqueue(older);
  await store.enqueue(newer);
  const [first] = await store.claim(claimAt(2_000));
  assert.equal(first.id, older.id);
  await store.complete(
    older.id,
    { number: 1, startedAt: 2_000, finishedAt: 2_001, statusCode: 410 },
    { status: 'dead', reason: 'gone' },
  );
  assert.equal(await store.nextDueAt(), newer.receivedAt, 'the next one is due');
  assert.equal(await store.replay(older.id, 3_000), true);
  const round = await store.claim(claimAt(3_000));
  assert.deepEqual(
    round.map((delivery) => delivery.id),
    [older.id],
    'the replayed older delivery goes before the newer one',
  );
  await store.complete(
    older.id,
    { number: 2, startedAt: 3_000, finishedAt: 3_001, statusCode: 200 },
    { status: 'delivered' },
  );
  const next = await store.claim(claimAt(3_002));
  assert.deepEqual(
    next.map((delivery) => delivery.id),
    [newer.id],
  );
});

test('redis queue worked by two workers', async (t) => {
  const settings = redisForTest(t);
  if (!settings) return;
  const seen = new Map<string, number>();
  const target = await startUpstream((request, response) => {
    const id = String(request.headers['x-pactown-delivery-id']);
    seen.set(id, (seen.get(id) ?? 0) + 1);
    response.end('ok');
  });
  t.after(() => target.close());
  const workers = [0, 1].map((index) => {
    const store = new RedisDeliveryStore(
      leaseFor({ ...settings, commandTimeoutMs: 1_000 + index }),
    );
    const worker = new DeliveryWorker({
      store,
      log: silentLog,
      settingsFor: () => ({ retry: { scheduleMs: [10], jitter: 0 }, timeoutMs: 2_000 }),
      concurrency: 4,
      targetConcurrency: 2,
      pollIntervalMs: 20,
      leaseMs: 10_000,
    });
    return { store, worker };
  });
  t.after(async () => {
    for (const { store, worker } of workers) {
      await worker.stop(100);
      await store.close();
    }
  });
  for (const { worker } of workers) {
    await worker.start();
  }
  for (let index = 0; index < 40; index++) {
    await workers[index % 2].store.enqueue(
      sampleDelivery({ target: `${target.url}/hook`, receivedAt: Date.now() }),
    );
  }
  await waitFor(() => seen.size === 40, 10_000, 'forty deliveries');
  await waitFor(
    async () => (await workers[0].store.counts()).delivered === 40,
    5_000,
    'forty recorded as delivered',
  );
  assert.ok(
    [...seen.values()].every((count) => count === 1),
    'each delivery is sent once',
  );
});
