import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BullmqDeliveryStore } from '../core/delivery/bullmq-store.js';
import type { ClaimRequest } from '../core/delivery/store.js';
import { DeliveryWorker } from '../core/delivery/worker.js';
import type { RedisSettings } from '../core/stores/redis-connection.js';
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

const WALL_CLOCK =
  'BullMQ schedules by the wall clock, not the suite clock; a test below covers this';

const url = redisUrlForSuites('bullmq delivery store contract');

if (url) {
  deliveryStoreSuite(
    'bullmq',
    async () => {
      const settings = suiteSettings(url, 'bullmq');
      const store = new BullmqDeliveryStore(leaseFor(settings), { log: silentLog });
      return {
        store,
        dispose: async () => {
          await store.close();
          await flushPrefix(settings);
        },
      };
    },
    {
      'enqueue stores a pending delivery due at once': WALL_CLOCK,
      'enqueue after the key expired is queued': WALL_CLOCK,
      'claim respects due time, limit and target slots': WALL_CLOCK,
      'claim keeps order within an order key': WALL_CLOCK,
      'release, recover and expired leases requeue': WALL_CLOCK,
    },
  );
}

const everySlot = () => 100;

function claimNow(limit = 100, freeSlots: (target: string) => number = everySlot): ClaimRequest {
  return { now: Date.now(), leaseMs: 60_000, limit, freeSlots };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Opens a store on `settings` that the test closes; heartbeats of 100 ms unless given. */
function openStore(
  t: { after(run: () => Promise<void>): void },
  settings: RedisSettings,
  heartbeatMs = 100,
): BullmqDeliveryStore {
  // Each store gets a client of its own, as a separate gateway process would.
  const own = { ...settings, commandTimeoutMs: settings.commandTimeoutMs + heartbeatMs + 1 };
  const store = new BullmqDeliveryStore(leaseFor(own), { log: silentLog, heartbeatMs });
  t.after(() => store.close());
  return store;
}

test('bullmq enqueue is due at once', async (t) => {
  const settings = redisForTest(t);
  if (!settings) return;
  const store = openStore(t, settings);
  const delivery = sampleDelivery({ receivedAt: Date.now(), body: Buffer.from([0, 255, 13]) });
  const before = Date.now();
  assert.deepEqual(await store.enqueue(delivery), { status: 'queued', id: delivery.id });
  const due = await store.nextDueAt();
  assert.ok(due !== undefined, 'a due time');
  assert.ok(due >= before, 'due no earlier than the enqueue');
  assert.ok(due <= Date.now(), 'due now');
  const stored = await store.get(delivery.id);
  assert.equal(stored?.status, 'pending');
  assert.ok(stored?.body.equals(delivery.body), 'body bytes are kept exactly');
});

test('bullmq dedupe key expires after its ttl', async (t) => {
  const settings = redisForTest(t);
  if (!settings) return;
  const store = openStore(t, settings);
  const claim = { key: 'stripe:evt_ttl', ttlMs: 400 };
  const first = sampleDelivery();
  assert.equal((await store.enqueue(first, claim)).status, 'queued');
  assert.deepEqual(await store.enqueue(sampleDelivery(), claim), {
    status: 'duplicate',
    id: first.id,
  });
  await store.claim(claimNow());
  await store.complete(
    first.id,
    { number: 1, startedAt: Date.now(), finishedAt: Date.now(), statusCode: 200 },
    { status: 'delivered' },
  );
  assert.equal(
    (await store.enqueue(sampleDelivery(), claim)).status,
    'duplicate',
    'a delivered event keeps its key until the ttl ends',
  );
  await sleep(500);
  assert.equal((await store.enqueue(sampleDelivery(), claim)).status, 'queued');
  assert.equal((await store.list({}, { limit: 10 })).deliveries.length, 2, 'no duplicate listed');
});

test('bullmq claim respects retry time and slots', async (t) => {
  const settings = redisForTest(t);
  if (!settings) return;
  const store = openStore(t, settings);
  const a = sampleDelivery({ target: 'http://a' });
  const b1 = sampleDelivery({ target: 'http://b' });
  const b2 = sampleDelivery({ target: 'http://b' });
  for (const delivery of [a, b1, b2]) {
    await store.enqueue(delivery);
  }
  const slots = (target: string) => (target === 'http://b' ? 1 : 5);
  const first = await store.claim(claimNow(100, slots));
  assert.deepEqual(first.map((delivery) => delivery.id).sort(), [a.id, b1.id].sort());
  assert.deepEqual(await store.claim(claimNow(100, () => 0)), [], 'no free slot, nothing claimed');

  const retryAt = Date.now() + 300;
  await store.complete(
    a.id,
    { number: 1, startedAt: Date.now(), finishedAt: Date.now(), statusCode: 503 },
    { status: 'pending', nextAttemptAt: retryAt },
  );
  const delayed = await store.get(a.id);
  assert.equal(delayed?.status, 'pending');
  assert.equal(delayed?.retryStep, 1);
  assert.equal(delayed?.nextAttemptAt, retryAt);
  const due = await store.nextDueAt();
  assert.ok(due !== undefined, 'b2 is still due');
  assert.ok(due <= Date.now(), 'b2 is due now');
  // b1 is still in flight at this worker, which so has no slot left for b.
  const bFull = (target: string) => (target === 'http://b' ? 0 : 5);
  const second = await store.claim(claimNow(100, bFull));
  assert.deepEqual(
    second.map((delivery) => delivery.id),
    [],
    'a waits for its retry and b has no free slot',
  );
  await sleep(350);
  const third = await store.claim(claimNow(1));
  assert.deepEqual(
    third.map((delivery) => delivery.id),
    [third[0]?.id],
    'the limit caps the claim',
  );
  const rest = await store.claim(claimNow());
  assert.deepEqual(
    [...third, ...rest].map((delivery) => delivery.id).sort(),
    [a.id, b2.id].sort(),
    'the retry is due once its time passed',
  );
  assert.equal((await store.attempts(a.id)).length, 1, 'the first attempt is recorded');
});

test('bullmq ordered head holds back the rest', async (t) => {
  const settings = redisForTest(t);
  if (!settings) return;
  const store = openStore(t, settings);
  const head = sampleDelivery({ target: 'http://o', orderKey: 'http://o' });
  const next = sampleDelivery({ target: 'http://o', orderKey: 'http://o' });
  await store.enqueue(head);
  await store.enqueue(next);

  const first = await store.claim(claimNow());
  assert.deepEqual(
    first.map((delivery) => delivery.id),
    [head.id],
    'one delivery of an ordering key at a time',
  );
  assert.equal(await store.nextDueAt(), undefined, 'nothing is due while the head is in flight');

  const retryAt = Date.now() + 300;
  await store.complete(
    head.id,
    { number: 1, startedAt: Date.now(), finishedAt: Date.now(), statusCode: 500 },
    { status: 'pending', nextAttemptAt: retryAt },
  );
  assert.deepEqual(await store.claim(claimNow()), [], 'a retrying head holds back the next one');
  assert.equal(await store.nextDueAt(), retryAt, 'due when the head retries');

  await sleep(350);
  const retried = await store.claim(claimNow());
  assert.deepEqual(
    retried.map((delivery) => delivery.id),
    [head.id],
    'the head comes first again',
  );

  await store.complete(
    head.id,
    { number: 2, startedAt: Date.now(), finishedAt: Date.now(), statusCode: 200 },
    { status: 'delivered' },
  );
  const after = await store.claim(claimNow());
  assert.deepEqual(
    after.map((delivery) => delivery.id),
    [next.id],
  );
});

test('bullmq takes back jobs of a dead worker', async (t) => {
  const settings = redisForTest(t);
  if (!settings) return;
  const dying = openStore(t, settings);
  const survivor = openStore(t, settings);
  const released = sampleDelivery();
  const orphaned = sampleDelivery();
  await dying.enqueue(released);
  await dying.enqueue(orphaned);
  await dying.recover(Date.now());
  await survivor.recover(Date.now());

  const claimed = await dying.claim(claimNow());
  assert.equal(claimed.length, 2);
  await dying.release([released.id], Date.now());
  assert.equal((await survivor.get(released.id))?.status, 'pending', 'release requeues');
  const reclaimed = await survivor.claim(claimNow());
  assert.deepEqual(
    reclaimed.map((delivery) => delivery.id),
    [released.id],
  );

  // The dying store stops renewing locks without releasing anything, as a killed process does.
  await dying.close();
  await waitFor(
    async () => (await survivor.get(orphaned.id))?.status === 'pending',
    5_000,
    'the expired lock to return the job',
  );
  const retaken = await survivor.claim(claimNow());
  assert.deepEqual(
    retaken.map((delivery) => delivery.id),
    [orphaned.id],
  );
});

test('bullmq worker delivers, retries and dead-letters', async (t) => {
  const settings = redisForTest(t);
  if (!settings) return;
  const store = openStore(t, settings);
  let failuresLeft = 2;
  const upstream = await startUpstream((request, response) => {
    if (request.url === '/gone') {
      response.statusCode = 410;
    } else if (failuresLeft > 0) {
      failuresLeft -= 1;
      response.statusCode = 503;
    }
    response.end();
  });
  t.after(() => upstream.close());
  const worker = new DeliveryWorker({
    store,
    log: silentLog,
    settingsFor: () => ({ retry: { scheduleMs: [50, 50, 50], jitter: 0 }, timeoutMs: 2_000 }),
    concurrency: 4,
    targetConcurrency: 2,
    pollIntervalMs: 50,
    leaseMs: 60_000,
  });
  await worker.start();
  t.after(() => worker.stop(1_000));
  const retried = sampleDelivery({ target: `${upstream.url}/ok`, receivedAt: Date.now() });
  const goneTarget = sampleDelivery({ target: `${upstream.url}/gone`, receivedAt: Date.now() });
  await store.enqueue(retried);
  await store.enqueue(goneTarget);
  worker.wake();
  await waitFor(
    async () => (await store.counts()).delivered === 1 && (await store.counts()).dead === 1,
    10_000,
    'one delivered and one dead letter',
  );
  const delivered = await store.get(retried.id);
  assert.equal(delivered?.attempts, 3, 'two failures, then success');
  assert.equal(delivered?.lastStatus, 200);
  const statuses = (await store.attempts(retried.id)).map((attempt) => attempt.statusCode);
  assert.deepEqual(statuses, [503, 503, 200]);
  const dead = await store.get(goneTarget.id);
  assert.equal(dead?.status, 'dead');
  assert.equal(dead?.deadReason, 'target answered 410 Gone');
  assert.equal(await store.replay(goneTarget.id, Date.now()), true, 'a dead letter replays');
  await waitFor(
    async () => (await store.get(goneTarget.id))?.attempts === 2,
    10_000,
    'the replayed delivery to be attempted again',
  );
});

test('bullmq lists by status across queues', async (t) => {
  const settings = redisForTest(t);
  if (!settings) return;
  const store = openStore(t, settings);
  const enqueued = [];
  for (let index = 0; index < 6; index++) {
    const delivery = sampleDelivery({ target: index % 2 === 0 ? 'http://even' : 'http://odd' });
    enqueued.push(delivery);
    await store.enqueue(delivery);
  }
  await store.claim(claimNow());
  for (const delivery of enqueued.slice(0, 5)) {
    await store.complete(
      delivery.id,
      { number: 1, startedAt: Date.now(), finishedAt: Date.now(), statusCode: 500 },
      { status: 'dead', reason: 'schedule used up' },
    );
  }

  const first = await store.list({ status: 'dead' }, { limit: 2 });
  assert.deepEqual(
    first.deliveries.map((delivery) => delivery.id),
    [enqueued[4].id, enqueued[3].id],
    'newest first across both targets',
  );
  const second = await store.list({ status: 'dead' }, { limit: 2, cursor: first.nextCursor });
  assert.deepEqual(
    second.deliveries.map((delivery) => delivery.id),
    [enqueued[2].id, enqueued[1].id],
  );
  const last = await store.list({ status: 'dead' }, { limit: 2, cursor: second.nextCursor });
  assert.deepEqual(
    last.deliveries.map((delivery) => delivery.id),
    [enqueued[0].id],
  );
  assert.equal(last.nextCursor, undefined);

  const odd = await store.list({ status: 'dead', target: 'http://odd' }, { limit: 10 });
  assert.deepEqual(
    odd.deliveries.map((delivery) => delivery.id),
    [enqueued[3].id, enqueued[1].id],
  );
  const flight = await store.list({ status: 'in_flight' }, { limit: 10 });
  assert.deepEqual(
    flight.deliveries.map((delivery) => delivery.id),
    [enqueued[5].id],
  );

  assert.equal(
    await store.replayMatching({ status: 'dead', target: 'http://even' }, Date.now()),
    3,
  );
  assert.equal((await store.list({ status: 'pending' }, { limit: 10 })).deliveries.length, 3);
});

test('bullmq queues again after redis lost its data', async (t) => {
  const settings = redisForTest(t);
  if (!settings) return;
  const store = openStore(t, settings);
  const before = sampleDelivery({ target: 'http://lost', orderKey: 'http://lost' });
  await store.enqueue(before);
  // What a FLUSHDB or a failover to an empty replica does to the keys of this store.
  await flushPrefix(settings);
  const after = sampleDelivery({ target: 'http://lost', orderKey: 'http://lost' });
  assert.equal((await store.enqueue(after)).status, 'queued');
  const claimed = await store.claim(claimNow());
  assert.deepEqual(
    claimed.map((delivery) => delivery.id),
    [after.id],
    'the queue is known to the worker again',
  );
  const pending = await store.list({ status: 'in_flight' }, { limit: 10 });
  assert.equal(pending.deliveries.length, 1, 'a status listing finds it');
});
