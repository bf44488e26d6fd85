import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type TestContext, test } from 'node:test';
import { builtinLoadOptions } from '../cli/builtins.js';
import { createGateway, loadConfig } from '../core/index.js';
import type { SourceEvent, SourceStateStore } from '../core/plugin-api.js';
import { AllegroClient } from '../providers/allegro-journal/client.js';
import { JournalPoller, ORDER_JOURNAL } from '../providers/allegro-journal/poller.js';
import { FakeAllegro, orderEvents } from './allegro-fake.js';
import { silentLog, waitFor } from './delivery-helpers.js';
import { startUpstream, type TestUpstream, writeConfig } from './helpers.js';

function sourceYaml(
  fake: FakeAllegro,
  target: TestUpstream,
  storage: string,
  options: Record<string, string> = {},
): string {
  const lines = { limit: '2', ...options };
  const extra = Object.entries(lines)
    .map(([key, value]) => `      ${key}: ${value}`)
    .join('\n');
  return `
storage:
  path: ${storage}
queue:
  poll_interval: 20ms
  retry_jitter: 0
routes: []
sources:
  - name: shop
    source: allegro
    target: ${target.url}/allegro
    order: arrival
    options:
      api_url: ${fake.url}
      auth_url: ${fake.url}/auth/oauth
      client_id: ${fake.clientId}
      client_secret: ${fake.clientSecret}
      interval: 30ms
      backoff_initial: 10ms
      rate_limit_pause: 20ms
${extra}
`;
}

/** Starts an in-process gateway for `yaml`; the returned function closes it (also after the test). */
async function startGateway(t: TestContext, yaml: string): Promise<() => Promise<void>> {
  const loaded = await loadConfig(writeConfig(yaml), builtinLoadOptions({}));
  const gateway = await createGateway(loaded, { logger: false, env: {} });
  let closed = false;
  const close = async () => {
    if (!closed) {
      closed = true;
      await gateway.close();
    }
  };
  t.after(close);
  return close;
}

function deliveredIds(target: TestUpstream): string[] {
  return target.requests.map((request) => String(request.headers['x-allegro-event-id']));
}

async function setup(t: TestContext) {
  const fake = await new FakeAllegro().start();
  const target = await startUpstream();
  t.after(async () => {
    await fake.close();
    await target.close();
  });
  const storage = mkdtempSync(join(tmpdir(), 'pactown-allegro-'));
  return { fake, target, storage };
}

test('allegro journal delivered once each', async (t) => {
  const { fake, target, storage } = await setup(t);
  const [a, b, c, d, e] = orderEvents('o', 5);
  // A repeated event, and occurredAt values that go backwards, as the journal may return them.
  const late = { ...c, occurredAt: '2026-03-01T09:00:00.000Z' };
  // With limit 3 the batches are [a, b, a], [c, d, d] and [b, e]: repeats within and across.
  fake.orders = [a, b, a, late, d, d, b, e];
  fake.failures = [{ status: 429, retryAfter: '0' }, { status: 503 }, { status: 500 }];
  await startGateway(t, sourceYaml(fake, target, storage, { start: 'oldest', limit: '3' }));

  await waitFor(() => new Set(deliveredIds(target)).size === 5, 5_000, 'five distinct events');
  fake.expireTokens();
  const f = orderEvents('o', 6)[5];
  fake.orders.push(f);
  await waitFor(
    () => deliveredIds(target).includes(f.id),
    5_000,
    'an event after the token expired',
  );
  await new Promise((resolve) => setTimeout(resolve, 100));

  assert.deepEqual(
    deliveredIds(target),
    [a.id, b.id, c.id, d.id, e.id, f.id],
    'once each, in order',
  );
  assert.ok(fake.tokensIssued >= 2, 'a 401 renews the access token');
  const [request] = target.requests;
  assert.equal(request.url, '/allegro');
  assert.equal(request.headers['x-allegro-event-type'], a.type);
  assert.equal(request.headers['x-pactown-provider'], 'allegro');
  assert.match(String(request.headers['x-pactown-delivery-id']), /^dlv_/);
  assert.deepEqual(JSON.parse(request.body.toString()), a);
  const froms = fake.journalRequests().map((entry) => entry.query.get('from'));
  assert.equal(froms[0], null, 'start: oldest reads from the beginning');
  assert.ok(froms.includes(e.id), 'the cursor advanced to the last event of a batch');
  assert.ok(fake.journalRequests().every((entry) => entry.query.get('limit') === '3'));
});

test('allegro seeds cursor from event-stats', async (t) => {
  const { fake, target, storage } = await setup(t);
  fake.orders = orderEvents('old', 3);
  await startGateway(t, sourceYaml(fake, target, storage));
  await waitFor(() => fake.journalRequests().length >= 1, 5_000, 'the first poll');
  assert.equal(fake.journalRequests()[0].query.get('from'), 'old-3');
  fake.orders.push(...orderEvents('new', 2));
  await waitFor(() => target.requests.length === 2, 5_000, 'the two new events');
  assert.deepEqual(deliveredIds(target), ['new-1', 'new-2']);
});

test('allegro cursor out of retention re-seeds', async (t) => {
  const { fake, target, storage } = await setup(t);
  fake.orders = orderEvents('first', 2);
  const close = await startGateway(t, sourceYaml(fake, target, storage, { start: 'oldest' }));
  await waitFor(() => target.requests.length === 2, 5_000, 'the first two events');
  await close();

  // The stored cursor (first-2) leaves the journal; two events arrive while the gateway is down.
  fake.orders = orderEvents('gap', 2);
  await startGateway(t, sourceYaml(fake, target, storage, { start: 'oldest' }));
  await waitFor(
    () => fake.requests.some((request) => request.path === '/order/event-stats'),
    5_000,
    'a look at event-stats',
  );
  fake.orders.push(...orderEvents('after', 1));
  await waitFor(
    () => deliveredIds(target).includes('after-1'),
    5_000,
    'the event after the re-seed',
  );
  assert.deepEqual(deliveredIds(target), ['first-1', 'first-2', 'after-1']);
  const rejected = fake.journalRequests().filter((entry) => entry.query.get('from') === 'first-2');
  assert.ok(rejected.length >= 1, 'the stale cursor was sent once and rejected');
});

test('allegro refresh token rotation survives restart', async (t) => {
  const { fake, target, storage } = await setup(t);
  fake.orders = orderEvents('r', 1);
  const yaml = sourceYaml(fake, target, storage, { start: 'oldest', refresh_token: 'rt_initial' });
  const close = await startGateway(t, yaml);
  await waitFor(() => target.requests.length === 1, 5_000, 'the first event');
  await close();
  assert.equal(fake.refreshToken, 'rt_1', 'the refresh grant rotated the token');

  fake.expireTokens();
  fake.orders.push(...orderEvents('s', 1));
  await startGateway(t, yaml);
  await waitFor(() => target.requests.length === 2, 5_000, 'an event after the restart');
  assert.equal(fake.refreshGrants, 2, 'the restart used the rotated token, not the configured one');
});

test('allegro cursor waits for accepted batch', async (t) => {
  const fake = await new FakeAllegro().start();
  t.after(() => fake.close());
  fake.orders = orderEvents('c', 3);
  const values = new Map<string, string>();
  const state: SourceStateStore = {
    get: async (key) => values.get(key),
    set: async (key, value) => {
      values.set(key, value);
    },
    delete: async (key) => {
      values.delete(key);
    },
  };
  const client = new AllegroClient({
    apiUrl: fake.url,
    authUrl: `${fake.url}/auth/oauth`,
    clientId: fake.clientId,
    clientSecret: fake.clientSecret,
    timeoutMs: 2_000,
    state,
    log: silentLog,
  });
  const poller = new JournalPoller(
    client,
    {
      journals: [ORDER_JOURNAL],
      limit: 10,
      intervalMs: 1_000,
      start: 'oldest',
      backoffInitialMs: 10,
      backoffMaxMs: 100,
      rateLimitPauseMs: 10,
    },
    state,
    silentLog,
  );
  t.after(() => client.close());
  const failing = async () => {
    throw new Error('the store is down');
  };
  await assert.rejects(poller.pollOnce(failing), /the store is down/);
  assert.equal(values.get('order:cursor'), undefined, 'a failed batch leaves the cursor');
  const emitted: SourceEvent[] = [];
  await poller.pollOnce(async (events) => {
    emitted.push(...events);
  });
  assert.deepEqual(
    emitted.map((event) => event.id),
    ['c-1', 'c-2', 'c-3'],
  );
  assert.equal(values.get('order:cursor'), 'c-3');
});

test('allegro options validate at load', async () => {
  const yaml = `
routes: []
sources:
  - source: allegro
    target: http://127.0.0.1:9/x
    options:
      client_id: id
      limit: 5000
`;
  await assert.rejects(
    loadConfig(writeConfig(yaml), builtinLoadOptions({})),
    (error: Error) => /client_secret/.test(error.message) && /limit/.test(error.message),
  );
});
