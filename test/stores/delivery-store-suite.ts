import assert from 'node:assert/strict';
import { test as nodeTest, suite } from 'node:test';
import type { DeliveryStore, NewDelivery } from '../../core/delivery/store.js';

/** A fresh, empty store and a function that disposes of it. */
export interface StoreUnderTest {
  store: DeliveryStore;
  dispose(): Promise<void>;
}

let counter = 0;

/** Builds a delivery with defaults; ids are unique within a run. */
export function sampleDelivery(overrides: Partial<NewDelivery> = {}): NewDelivery {
  counter += 1;
  return {
    id: `dlv_test_${counter}`,
    route: '/webhooks/stripe',
    provider: 'stripe',
    eventId: `evt_${counter}`,
    eventType: 'payment_intent.succeeded',
    target: 'http://127.0.0.1:9/a',
    body: Buffer.from(`{"n":${counter}}`),
    headers: { 'content-type': 'application/json' },
    receivedAt: 1_000,
    maxAgeMs: 86_400_000,
    ...overrides,
  };
}

const everySlot = () => 100;

/**
 * The contract every {@link DeliveryStore} implementation must meet. Call it from a test file
 * with a factory of empty stores; each test gets its own store. `skip` maps test names to the
 * reason a store cannot run them. A store that schedules by the wall clock cannot follow the
 * suite's test clock, for example. That store's own tests must then cover the same behaviour.
 */
export function deliveryStoreSuite(
  name: string,
  create: () => Promise<StoreUnderTest>,
  skip: Record<string, string> = {},
): void {
  const test = (title: string, run: () => Promise<void>) =>
    nodeTest(title, { skip: skip[title] }, run);
  suite(`delivery store contract: ${name}`, () => {
    async function withStore(run: (store: DeliveryStore) => Promise<void>): Promise<void> {
      const { store, dispose } = await create();
      try {
        await run(store);
      } finally {
        await dispose();
      }
    }

    test('enqueue stores a pending delivery due at once', () =>
      withStore(async (store) => {
        const delivery = sampleDelivery({ body: Buffer.from([0, 255, 10, 13]) });
        assert.deepEqual(await store.enqueue(delivery), { status: 'queued', id: delivery.id });
        const stored = await store.get(delivery.id);
        assert.ok(stored);
        assert.equal(stored.status, 'pending');
        assert.equal(stored.nextAttemptAt, delivery.receivedAt);
        assert.equal(stored.attempts, 0);
        assert.ok(stored.body.equals(delivery.body), 'body bytes are kept exactly');
        assert.deepEqual(stored.headers, delivery.headers);
        assert.equal(await store.nextDueAt(), delivery.receivedAt);
      }));

    test('enqueue with a held key is a duplicate', () =>
      withStore(async (store) => {
        const first = sampleDelivery();
        const again = sampleDelivery();
        const claim = { key: 'k1', ttlMs: 10_000 };
        assert.equal((await store.enqueue(first, claim)).status, 'queued');
        assert.deepEqual(await store.enqueue(again, claim), { status: 'duplicate', id: first.id });
        assert.equal(await store.get(again.id), undefined);
      }));

    test('enqueue after the key expired is queued', () =>
      withStore(async (store) => {
        const claim = { key: 'k2', ttlMs: 100 };
        await store.enqueue(sampleDelivery({ receivedAt: 1_000 }), claim);
        const later = sampleDelivery({ receivedAt: 1_100 });
        assert.equal((await store.enqueue(later, claim)).status, 'queued');
      }));

    test('claim respects due time, limit and target slots', () =>
      withStore(async (store) => {
        const a1 = sampleDelivery({ target: 'http://a' });
        const a2 = sampleDelivery({ target: 'http://a' });
        const b1 = sampleDelivery({ target: 'http://b' });
        const future = sampleDelivery({ target: 'http://c', receivedAt: 5_000 });
        for (const delivery of [a1, a2, b1, future]) {
          await store.enqueue(delivery);
        }
        const claimed = await store.claim({
          now: 2_000,
          leaseMs: 1_000,
          limit: 10,
          freeSlots: (target) => (target === 'http://a' ? 1 : 5),
        });
        const ids = claimed.map((delivery) => delivery.id).sort();
        assert.deepEqual(ids, [a1.id, b1.id].sort());
        assert.ok(claimed.every((delivery) => delivery.status === 'in_flight'));
        assert.equal((await store.get(a1.id))?.status, 'in_flight');
        const limited = await store.claim({
          now: 2_000,
          leaseMs: 1_000,
          limit: 0,
          freeSlots: everySlot,
        });
        assert.equal(limited.length, 0);
        const rest = await store.claim({
          now: 2_000,
          leaseMs: 1_000,
          limit: 10,
          freeSlots: everySlot,
        });
        assert.deepEqual(
          rest.map((delivery) => delivery.id),
          [a2.id],
        );
      }));

    test('claim keeps order within an order key', () =>
      withStore(async (store) => {
        const first = sampleDelivery({ orderKey: 'http://o' });
        const second = sampleDelivery({ orderKey: 'http://o' });
        const loose = sampleDelivery({ target: 'http://o' });
        for (const delivery of [first, second, loose]) {
          await store.enqueue(delivery);
        }
        const claim = (now: number) =>
          store.claim({ now, leaseMs: 60_000, limit: 10, freeSlots: everySlot });
        const round1 = (await claim(2_000)).map((delivery) => delivery.id).sort();
        assert.deepEqual(round1, [first.id, loose.id].sort());
        await store.complete(
          first.id,
          { number: 1, startedAt: 2_000, finishedAt: 2_001, statusCode: 500 },
          { status: 'pending', nextAttemptAt: 3_000 },
        );
        assert.deepEqual(await claim(2_500), [], 'a retrying head holds back the next one');
        const round3 = await claim(3_000);
        assert.deepEqual(
          round3.map((delivery) => delivery.id),
          [first.id],
        );
        await store.complete(
          first.id,
          { number: 2, startedAt: 3_000, finishedAt: 3_001, statusCode: 200 },
          { status: 'delivered' },
        );
        assert.deepEqual(
          (await claim(3_002)).map((delivery) => delivery.id),
          [second.id],
        );
      }));

    test('complete records attempts and moves state', () =>
      withStore(async (store) => {
        const delivery = sampleDelivery();
        await store.enqueue(delivery);
        await store.claim({ now: 2_000, leaseMs: 1_000, limit: 1, freeSlots: everySlot });
        await store.complete(
          delivery.id,
          {
            number: 1,
            startedAt: 2_000,
            finishedAt: 2_010,
            statusCode: 503,
            responseExcerpt: 'busy',
          },
          { status: 'pending', nextAttemptAt: 7_000 },
        );
        let stored = await store.get(delivery.id);
        assert.equal(stored?.status, 'pending');
        assert.equal(stored?.attempts, 1);
        assert.equal(stored?.retryStep, 1);
        assert.equal(stored?.nextAttemptAt, 7_000);
        assert.equal(stored?.lastStatus, 503);
        await store.claim({ now: 7_000, leaseMs: 1_000, limit: 1, freeSlots: everySlot });
        await store.complete(
          delivery.id,
          { number: 2, startedAt: 7_000, finishedAt: 7_010, error: 'ECONNREFUSED' },
          { status: 'dead', reason: 'retry schedule used up' },
        );
        stored = await store.get(delivery.id);
        assert.equal(stored?.status, 'dead');
        assert.equal(stored?.deadReason, 'retry schedule used up');
        assert.equal(stored?.lastError, 'ECONNREFUSED');
        const attempts = await store.attempts(delivery.id);
        assert.deepEqual(
          attempts.map((attempt) => [attempt.number, attempt.statusCode, attempt.error]),
          [
            [1, 503, undefined],
            [2, undefined, 'ECONNREFUSED'],
          ],
        );
        assert.equal(attempts[0].responseExcerpt, 'busy');
      }));

    test('release, recover and expired leases requeue', () =>
      withStore(async (store) => {
        const released = sampleDelivery();
        const crashed = sampleDelivery();
        const leased = sampleDelivery();
        for (const delivery of [released, crashed, leased]) {
          await store.enqueue(delivery);
        }
        await store.claim({ now: 2_000, leaseMs: 500, limit: 10, freeSlots: everySlot });
        await store.release([released.id], 2_100);
        assert.equal((await store.get(released.id))?.status, 'pending');
        assert.equal((await store.attempts(released.id)).length, 0);
        const retaken = await store.claim({
          now: 2_600,
          leaseMs: 500,
          limit: 10,
          freeSlots: everySlot,
        });
        assert.deepEqual(
          retaken.map((delivery) => delivery.id).sort(),
          [released.id, crashed.id, leased.id].sort(),
          'expired leases are claimable again',
        );
        assert.equal(await store.recover(3_000), 3);
        assert.equal((await store.get(crashed.id))?.status, 'pending');
      }));

    test('list filters and pages newest first', () =>
      withStore(async (store) => {
        const made: NewDelivery[] = [];
        for (let index = 0; index < 5; index++) {
          const delivery = sampleDelivery({
            receivedAt: 1_000 + index,
            provider: index % 2 === 0 ? 'stripe' : 'github',
          });
          made.push(delivery);
          await store.enqueue(delivery);
        }
        const page1 = await store.list({}, { limit: 2 });
        assert.deepEqual(
          page1.deliveries.map((delivery) => delivery.id),
          [made[4].id, made[3].id],
        );
        assert.ok(page1.nextCursor);
        const page2 = await store.list({}, { limit: 2, cursor: page1.nextCursor });
        assert.deepEqual(
          page2.deliveries.map((delivery) => delivery.id),
          [made[2].id, made[1].id],
        );
        const page3 = await store.list({}, { limit: 2, cursor: page2.nextCursor });
        assert.deepEqual(
          page3.deliveries.map((delivery) => delivery.id),
          [made[0].id],
        );
        assert.equal(page3.nextCursor, undefined);
        const github = await store.list({ provider: 'github' }, { limit: 10 });
        assert.deepEqual(
          github.deliveries.map((delivery) => delivery.id),
          [made[3].id, made[1].id],
        );
        const window = await store.list({ since: 1_001, until: 1_003 }, { limit: 10 });
        assert.deepEqual(
          window.deliveries.map((delivery) => delivery.id),
          [made[2].id, made[1].id],
        );
        const pending = await store.list(
          { status: 'pending', target: made[0].target },
          { limit: 10 },
        );
        assert.equal(pending.deliveries.length, 5);
        assert.equal((await store.list({ status: 'dead' }, { limit: 10 })).deliveries.length, 0);
      }));

    test('replay resets schedule and window', () =>
      withStore(async (store) => {
        const dead = sampleDelivery();
        const busy = sampleDelivery({ target: 'http://busy' });
        await store.enqueue(dead);
        await store.claim({ now: 2_000, leaseMs: 1_000, limit: 1, freeSlots: everySlot });
        await store.complete(
          dead.id,
          { number: 1, startedAt: 2_000, finishedAt: 2_001, statusCode: 410 },
          { status: 'dead', reason: 'gone' },
        );
        await store.enqueue(busy);
        await store.claim({ now: 2_000, leaseMs: 60_000, limit: 1, freeSlots: everySlot });
        assert.equal(await store.replay(dead.id, 9_000), true);
        const replayed = await store.get(dead.id);
        assert.equal(replayed?.status, 'pending');
        assert.equal(replayed?.retryStep, 0);
        assert.equal(replayed?.windowStart, 9_000);
        assert.equal(replayed?.nextAttemptAt, 9_000);
        assert.equal(replayed?.deadReason, undefined);
        assert.equal(replayed?.attempts, 1, 'the attempt count keeps the history');
        assert.equal(await store.replay(busy.id, 9_000), false, 'in flight is not replayed');
        assert.equal(await store.replay('dlv_missing', 9_000), false);
      }));

    test('replayMatching replays by filter', () =>
      withStore(async (store) => {
        const ids: string[] = [];
        for (let index = 0; index < 3; index++) {
          const delivery = sampleDelivery();
          ids.push(delivery.id);
          await store.enqueue(delivery);
        }
        await store.claim({ now: 2_000, leaseMs: 1_000, limit: 3, freeSlots: everySlot });
        for (const id of ids.slice(0, 2)) {
          await store.complete(
            id,
            { number: 1, startedAt: 2_000, finishedAt: 2_001, statusCode: 500 },
            { status: 'dead', reason: 'schedule used up' },
          );
        }
        assert.equal(await store.replayMatching({ status: 'dead' }, 5_000), 2);
        assert.equal((await store.get(ids[0]))?.status, 'pending');
        assert.equal((await store.get(ids[2]))?.status, 'in_flight');
      }));

    test('prune deletes only old finished deliveries', () =>
      withStore(async (store) => {
        const old = sampleDelivery();
        const open = sampleDelivery();
        await store.enqueue(old);
        await store.enqueue(open);
        const [claimed] = await store.claim({
          now: 2_000,
          leaseMs: 1_000,
          limit: 1,
          freeSlots: everySlot,
        });
        await store.complete(
          claimed.id,
          { number: 1, startedAt: 2_000, finishedAt: 2_001, statusCode: 200 },
          { status: 'delivered' },
        );
        assert.equal(await store.prune(2_001, ['delivered']), 0, 'not older than the cut-off');
        assert.equal(await store.prune(10_000, ['delivered', 'dead']), 1);
        assert.equal(await store.get(claimed.id), undefined);
        assert.equal((await store.list({}, { limit: 10 })).deliveries.length, 1);
      }));

    test('counts every status', () =>
      withStore(async (store) => {
        await store.enqueue(sampleDelivery());
        await store.enqueue(sampleDelivery());
        await store.claim({ now: 2_000, leaseMs: 1_000, limit: 1, freeSlots: everySlot });
        assert.deepEqual(await store.counts(), { pending: 1, in_flight: 1, delivered: 0, dead: 0 });
      }));
  });
}
