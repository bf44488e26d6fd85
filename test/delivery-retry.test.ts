import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { test } from 'node:test';
import { parseRetryAfter, retryDelay } from '../core/delivery/schedule.js';
import type { DeliveryStore } from '../core/delivery/store.js';
import { deliveryConfig, FakeClock, prepareQueue } from './delivery-helpers.js';
import { startUpstream } from './helpers.js';

const ZERO_JITTER = { queue: { retry_jitter: 0 } };

/** Starts an upstream that responds with the next status of `statuses`, then 200. */
async function scriptedTarget(statuses: (number | [number, Record<string, string>])[]) {
  const script = [...statuses];
  return startUpstream((_request, response) => {
    const next = script.shift() ?? 200;
    const [status, headers] = Array.isArray(next) ? next : [next, {}];
    response.writeHead(status, headers);
    response.end(status >= 300 ? 'not now' : 'ok');
  });
}

test('retry schedule with fake clock', async (t) => {
  const target = await scriptedTarget([500, 503]);
  t.after(() => target.close());
  const clock = new FakeClock();
  const config = deliveryConfig(
    { target: `${target.url}/hook`, retry_schedule: ['5s', '30s'] },
    ZERO_JITTER,
  );
  const { runtime, accept } = await prepareQueue(t, config, { now: clock.now });
  const outcome = await accept({ eventId: 'evt_retry' });
  assert.equal(outcome.status, 202);
  const id = (outcome.body as { delivery_id: string }).delivery_id;
  assert.match(id, /^dlv_[0-9a-f]{32}$/);
  const { worker, store } = runtime;

  assert.equal(await worker.runDue(), 1);
  await worker.idle();
  let delivery = await store.get(id);
  assert.equal(delivery?.status, 'pending');
  assert.equal(delivery?.nextAttemptAt, clock.time + 5_000, 'first retry after 5 s');

  clock.advance(4_999);
  assert.equal(await worker.runDue(), 0, 'not due before the delay');
  clock.advance(1);
  assert.equal(await worker.runDue(), 1);
  await worker.idle();
  delivery = await store.get(id);
  assert.equal(delivery?.nextAttemptAt, clock.time + 30_000, 'second retry after 30 s');

  clock.advance(30_000);
  assert.equal(await worker.runDue(), 1);
  await worker.idle();
  delivery = await store.get(id);
  assert.equal(delivery?.status, 'delivered');
  assert.equal(delivery?.attempts, 3);
  const statuses = (await store.attempts(id)).map((attempt) => attempt.statusCode);
  assert.deepEqual(statuses, [500, 503, 200]);
  const ids = target.requests.map((request) => request.headers['x-pactown-delivery-id']);
  assert.deepEqual(ids, [id, id, id], 'the delivery id is the same on every attempt');
  assert.equal(target.requests[0].url, '/hook');
  assert.equal(target.requests[2].body.toString(), target.requests[0].body.toString());
});

test('retry-after replaces the schedule', async (t) => {
  const target = await scriptedTarget([[429, { 'retry-after': '120' }]]);
  t.after(() => target.close());
  const clock = new FakeClock();
  const config = deliveryConfig({ target: target.url, retry_schedule: ['5s'] }, ZERO_JITTER);
  const { runtime, accept } = await prepareQueue(t, config, { now: clock.now });
  const outcome = await accept({});
  const id = (outcome.body as { delivery_id: string }).delivery_id;
  await runtime.worker.runDue();
  await runtime.worker.idle();
  const delivery = await runtime.store.get(id);
  assert.equal(delivery?.status, 'pending');
  assert.equal(delivery?.nextAttemptAt, clock.time + 120_000);
  assert.equal(delivery?.lastStatus, 429);
});

test('410 dead-letters without retry', async (t) => {
  const target = await scriptedTarget([410]);
  t.after(() => target.close());
  const clock = new FakeClock();
  const config = deliveryConfig({ target: target.url });
  const { runtime, accept } = await prepareQueue(t, config, { now: clock.now });
  const id = ((await accept({})).body as { delivery_id: string }).delivery_id;
  await runtime.worker.runDue();
  await runtime.worker.idle();
  const delivery = await runtime.store.get(id);
  assert.equal(delivery?.status, 'dead');
  assert.match(delivery?.deadReason ?? '', /410/);
  clock.advance(86_400_000);
  assert.equal(await runtime.worker.runDue(), 0);
  assert.equal(target.requests.length, 1);
});

test('used-up schedule dead-letters, replay delivers', async (t) => {
  const target = await scriptedTarget([500, 500]);
  t.after(() => target.close());
  const clock = new FakeClock();
  const config = deliveryConfig({ target: target.url, retry_schedule: ['1s'] }, ZERO_JITTER);
  const { runtime, accept } = await prepareQueue(t, config, { now: clock.now });
  const id = ((await accept({})).body as { delivery_id: string }).delivery_id;
  const { worker, store } = runtime;
  await worker.runDue();
  await worker.idle();
  clock.advance(1_000);
  await worker.runDue();
  await worker.idle();
  let delivery = await store.get(id);
  assert.equal(delivery?.status, 'dead');
  assert.match(delivery?.deadReason ?? '', /retry schedule used up after 2 attempts/);

  assert.equal(await store.replay(id, clock.now()), true);
  await worker.runDue();
  await worker.idle();
  delivery = await store.get(id);
  assert.equal(delivery?.status, 'delivered');
  assert.equal(delivery?.attempts, 3);
  assert.equal(target.requests.length, 3);
});

test('max age dead-letters before the schedule ends', async (t) => {
  const target = await scriptedTarget([500]);
  t.after(() => target.close());
  const clock = new FakeClock();
  const config = deliveryConfig(
    { target: target.url, retry_schedule: ['10m'], max_age: '5m' },
    ZERO_JITTER,
  );
  const { runtime, accept } = await prepareQueue(t, config, { now: clock.now });
  const id = ((await accept({})).body as { delivery_id: string }).delivery_id;
  await runtime.worker.runDue();
  await runtime.worker.idle();
  const delivery = await runtime.store.get(id);
  assert.equal(delivery?.status, 'dead');
  assert.match(delivery?.deadReason ?? '', /max age/);
});

test('jitter stays within its fraction', () => {
  const policy = { scheduleMs: [10_000], jitter: 0.2 };
  assert.equal(
    retryDelay(policy, 0, undefined, () => 0),
    8_000,
  );
  assert.equal(
    retryDelay(policy, 0, undefined, () => 0.5),
    10_000,
  );
  assert.equal(
    retryDelay(policy, 0, undefined, () => 0.999999),
    12_000,
  );
  assert.equal(retryDelay(policy, 1), undefined, 'past the schedule');
  assert.equal(retryDelay(policy, 0, 3_000), 3_000, 'Retry-After wins, without jitter');
  assert.equal(retryDelay(policy, 0, 10 * 86_400_000), 43_200_000, 'capped at 12 h');
});

test('retry-after parses seconds and dates', () => {
  const now = Date.parse('2026-01-01T00:00:00Z');
  assert.equal(parseRetryAfter('30', now), 30_000);
  assert.equal(parseRetryAfter('Thu, 01 Jan 2026 00:01:00 GMT', now), 60_000);
  assert.equal(parseRetryAfter('Wed, 31 Dec 2025 00:00:00 GMT', now), 0);
  assert.equal(parseRetryAfter('soon', now), undefined);
  assert.equal(parseRetryAfter(undefined, now), undefined);
});

test('signature header signs the body', async (t) => {
  const target = await scriptedTarget([]);
  t.after(() => target.close());
  const secret = 'gateway-to-backend-secret';
  const config = deliveryConfig({ target: target.url, signing_secret: secret });
  const { runtime, accept } = await prepareQueue(t, config);
  await accept({
    body: Buffer.from('{"exact": "bytes" }'),
    headers: { 'x-custom': 'kept', host: 'x' },
  });
  await runtime.worker.runDue();
  await runtime.worker.idle();
  const [request] = target.requests;
  const expected = `sha256=${createHmac('sha256', secret).update(request.body).digest('hex')}`;
  assert.equal(request.headers['x-pactown-signature'], expected);
  assert.equal(request.body.toString(), '{"exact": "bytes" }');
  assert.equal(request.headers['x-custom'], 'kept');
  assert.equal(request.headers['x-pactown-provider'], 'test');
});

test('duplicate event id is queued once', async (t) => {
  const target = await scriptedTarget([]);
  t.after(() => target.close());
  const config = deliveryConfig({ target: target.url });
  const { runtime, accept } = await prepareQueue(t, config);
  const first = await accept({ eventId: 'evt_same' });
  const second = await accept({ eventId: 'evt_same' });
  assert.equal(first.status, 202);
  assert.equal(second.status, 200);
  assert.deepEqual(second.body, {
    status: 'duplicate',
    delivery_id: (first.body as { delivery_id: string }).delivery_id,
  });
  const page = await runtime.store.list({}, { limit: 10 });
  assert.equal(page.deliveries.length, 1);
});

test('store failure answers 503', async (t) => {
  const target = await scriptedTarget([]);
  t.after(() => target.close());
  const config = deliveryConfig({ target: target.url });
  const { runtime, accept } = await prepareQueue(t, config);
  const store = runtime.store as DeliveryStore;
  const original = store.enqueue;
  store.enqueue = async () => {
    throw new Error('disk I/O error');
  };
  t.after(() => {
    store.enqueue = original;
  });
  const outcome = await accept({});
  assert.equal(outcome.status, 503);
  assert.equal(outcome.headers?.['retry-after'], '5');
  assert.equal((outcome.body as { code: string }).code, 'PACTOWN_ERR_DELIVERY_STORE_UNAVAILABLE');
});
