import assert from 'node:assert/strict';
import { test } from 'node:test';
import { deliveryConfig, prepareQueue, waitFor } from './delivery-helpers.js';
import { startUpstream } from './helpers.js';

const FAST_QUEUE = { queue: { retry_jitter: 0, poll_interval: '20ms' } };

test('dead target does not delay others', async (t) => {
  const hanging: (() => void)[] = [];
  const slow = await startUpstream((_request, response) => {
    hanging.push(() => response.end());
  });
  const fast = await startUpstream();
  t.after(async () => {
    for (const release of hanging) {
      release();
    }
    await slow.close();
    await fast.close();
  });
  const config = deliveryConfig(
    { target: fast.url, timeout: '30s' },
    { queue: { ...FAST_QUEUE.queue, target_concurrency: 2 } },
  );
  const { runtime, accept } = await prepareQueue(t, config);
  for (let index = 0; index < 5; index++) {
    assert.equal((await accept({ target: slow.url })).status, 202);
  }
  for (let index = 0; index < 5; index++) {
    assert.equal((await accept({ target: fast.url })).status, 202);
  }
  await runtime.start();
  // The store records an attempt after the target responded, so wait for the records.
  await waitFor(
    async () => (await runtime.store.counts()).delivered === 5,
    10_000,
    'five deliveries to the fast target',
  );
  assert.equal(fast.requests.length, 5);
  const counts = await runtime.store.counts();
  assert.equal(counts.in_flight, 2, 'the slow target holds only its own two slots');
  assert.equal(counts.pending, 3);
  await waitFor(() => slow.requests.length === 2, 5_000, 'two attempts at the slow target');
});

test('graceful stop returns attempts to queue', async (t) => {
  const hanging: (() => void)[] = [];
  const slow = await startUpstream((_request, response) => {
    hanging.push(() => response.end());
  });
  t.after(async () => {
    for (const release of hanging) {
      release();
    }
    await slow.close();
  });
  const config = deliveryConfig({ target: slow.url, timeout: '30s' }, FAST_QUEUE);
  const { runtime, accept } = await prepareQueue(t, config);
  const id = ((await accept({})).body as { delivery_id: string }).delivery_id;
  await runtime.start();
  await waitFor(() => slow.requests.length === 1, 5_000, 'the attempt to start');
  const started = Date.now();
  await runtime.stop(200);
  assert.ok(Date.now() - started < 2_000, 'stop is bounded by its grace period');
  const delivery = await runtime.store.get(id);
  assert.equal(delivery?.status, 'pending');
  assert.equal((await runtime.store.attempts(id)).length, 0, 'an aborted attempt is not counted');
});

test('graceful stop lets short attempts finish', async (t) => {
  const target = await startUpstream(async (_request, response) => {
    await new Promise((resolve) => setTimeout(resolve, 100));
    response.end('ok');
  });
  t.after(() => target.close());
  const config = deliveryConfig({ target: target.url }, FAST_QUEUE);
  const { runtime, accept } = await prepareQueue(t, config);
  const id = ((await accept({})).body as { delivery_id: string }).delivery_id;
  await runtime.start();
  await waitFor(() => target.requests.length === 1, 5_000, 'the attempt to start');
  await runtime.stop(2_000);
  assert.equal((await runtime.store.get(id))?.status, 'delivered');
});

test('recovering backend gets all in order', async (t) => {
  let up = false;
  const received: string[] = [];
  const target = await startUpstream((request, response) => {
    if (!up) {
      response.writeHead(503);
      response.end('down');
      return;
    }
    received.push(JSON.parse(request.body.toString()).n);
    response.end('ok');
  });
  t.after(() => target.close());
  const config = deliveryConfig(
    {
      target: target.url,
      order: 'arrival',
      retry_schedule: Array.from({ length: 40 }, () => '25ms'),
    },
    FAST_QUEUE,
  );
  const { runtime, accept } = await prepareQueue(t, config);
  await runtime.start();
  const sent: number[] = [];
  for (let index = 0; index < 12; index++) {
    sent.push(index);
    const outcome = await accept({ body: Buffer.from(JSON.stringify({ n: index })) });
    assert.equal(outcome.status, 202);
  }
  await waitFor(() => target.requests.length >= 3, 5_000, 'failed attempts while down');
  up = true;
  await waitFor(() => received.length === 12, 10_000, 'all twelve deliveries');
  assert.deepEqual(received, sent, 'delivered once each, in order of arrival');
  // The last result is written after the target's response, so it may land a moment later.
  await waitFor(
    async () => (await runtime.store.counts()).delivered === 12,
    5_000,
    'twelve recorded as delivered',
  );
});

test('recovering backend gets all unordered', async (t) => {
  let up = false;
  const received = new Set<number>();
  const target = await startUpstream((request, response) => {
    if (!up) {
      response.destroy();
      return;
    }
    received.add(JSON.parse(request.body.toString()).n);
    response.end('ok');
  });
  t.after(() => target.close());
  const config = deliveryConfig(
    // Sixty retries 100 ms apart outlast the down phase even on a loaded machine.
    { target: target.url, retry_schedule: Array.from({ length: 60 }, () => '100ms') },
    FAST_QUEUE,
  );
  const { runtime, accept } = await prepareQueue(t, config);
  await runtime.start();
  for (let index = 0; index < 20; index++) {
    await accept({ body: Buffer.from(JSON.stringify({ n: index })) });
  }
  await waitFor(() => target.requests.length >= 20, 5_000, 'failed attempts while down');
  up = true;
  await waitFor(() => received.size === 20, 10_000, 'all twenty deliveries');
  // The last result is written after the target's response, so it may land a moment later.
  await waitFor(
    async () => (await runtime.store.counts()).delivered === 20,
    5_000,
    'twenty recorded as delivered',
  );
  const counts = await runtime.store.counts();
  assert.equal(counts.delivered, 20);
  assert.equal(counts.dead, 0);
});

test('full target does not spin the worker', async (t) => {
  const hanging: (() => void)[] = [];
  const slow = await startUpstream((_request, response) => {
    hanging.push(() => response.end());
  });
  t.after(async () => {
    for (const release of hanging) {
      release();
    }
    await slow.close();
  });
  const config = deliveryConfig(
    { target: slow.url, timeout: '30s' },
    { queue: { retry_jitter: 0, poll_interval: '200ms', target_concurrency: 2 } },
  );
  const { runtime, accept } = await prepareQueue(t, config);
  for (let index = 0; index < 5; index++) {
    assert.equal((await accept({ target: slow.url })).status, 202);
  }
  let claims = 0;
  const claim = runtime.store.claim.bind(runtime.store);
  runtime.store.claim = (request) => {
    claims += 1;
    return claim(request);
  };
  await runtime.start();
  await waitFor(() => slow.requests.length === 2, 5_000, 'two attempts at the slow target');
  claims = 0;
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  // Three due deliveries wait for a slot; the worker looks again once per poll interval.
  assert.ok(claims <= 10, `the worker claimed ${claims} times in 1 s with no free slot`);
  assert.equal(slow.requests.length, 2, 'no third attempt while both slots are taken');
});
