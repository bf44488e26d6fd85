import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { RedisSettings } from '../core/stores/redis-connection.js';
import { RedisCursorStore } from '../core/stores/redis-cursors.js';
import { RedisIdempotencyStore } from '../core/stores/redis-idempotency.js';
import { RedisLock } from '../core/stores/redis-lock.js';
import { RedisCacheStore } from '../plugins/redis-cache/store.js';
import { RedisLimiterStore } from '../plugins/redis-limiter/store.js';
import {
  flushPrefix,
  leaseFor,
  redisForTest,
  redisUrlForSuites,
  suiteSettings,
} from './redis-helpers.js';
import { cacheStoreSuite, responseEntry } from './stores/cache-store-suite.js';
import { cursorStoreSuite } from './stores/cursor-store-suite.js';
import { idempotencyStoreSuite } from './stores/idempotency-store-suite.js';
import { limiterStoreSuite } from './stores/limiter-store-suite.js';

const url = redisUrlForSuites('store suites');

/** Creates stores under fresh prefixes and deletes each prefix when its store is disposed. */
function factory<S extends { close?(): Promise<void> }>(
  name: string,
  make: (settings: RedisSettings) => S,
) {
  const prefixes = new Map<S, RedisSettings>();
  return {
    create: () => {
      const settings = suiteSettings(url as string, name);
      const store = make(settings);
      prefixes.set(store, settings);
      return store;
    },
    dispose: async (store: S) => {
      await store.close?.();
      await flushPrefix(prefixes.get(store) as RedisSettings);
    },
  };
}

const cacheLimits = { maxEntries: 10_000, maxBytes: 64 * 1024 ** 2 };

if (url) {
  limiterStoreSuite(
    'redis',
    factory('limiter', (settings) => new RedisLimiterStore(leaseFor(settings))),
  );
  cacheStoreSuite(
    'redis',
    factory('cache', (settings) => new RedisCacheStore(leaseFor(settings), cacheLimits)),
  );
  idempotencyStoreSuite(
    'redis',
    factory('idempotency', (settings) => new RedisIdempotencyStore(leaseFor(settings))),
  );
  cursorStoreSuite(
    'redis',
    factory('cursors', (settings) => new RedisCursorStore(leaseFor(settings))),
  );
}

test('redis limiter counts across clients', async (t) => {
  const settings = redisForTest(t);
  if (!settings) return;
  // Two leases of different timeouts get two connections, as two gateway instances would.
  const first = new RedisLimiterStore(leaseFor(settings));
  const second = new RedisLimiterStore(leaseFor({ ...settings, commandTimeoutMs: 1_500 }));
  t.after(async () => {
    await first.close();
    await second.close();
  });
  const hits = await Promise.all(
    Array.from({ length: 30 }, (_, index) =>
      (index % 2 === 0 ? first : second).incr('client', 60_000),
    ),
  );
  const counts = hits.map((hit) => hit.current).sort((a, b) => a - b);
  assert.deepEqual(
    counts,
    Array.from({ length: 30 }, (_, index) => index + 1),
  );
  assert.equal(await first.size(), 1);
});

test('redis cache evicts past max entries', async (t) => {
  const settings = redisForTest(t);
  if (!settings) return;
  let now = Date.now();
  const store = new RedisCacheStore(
    leaseFor(settings),
    { maxEntries: 3, maxBytes: 1024 ** 2 },
    () => now,
  );
  t.after(() => store.close());
  for (const key of ['a', 'b', 'c']) {
    now += 1;
    await store.set(key, responseEntry(key), [key]);
  }
  now += 1;
  await store.get('a');
  now += 1;
  await store.set('d', responseEntry('d'), ['d']);
  assert.equal((await store.size()).entries, 3);
  assert.equal(await store.get('b'), undefined, 'the least recently used entry goes first');
  assert.ok(await store.get('a'), 'a read entry counts as recently used');
});

test('redis cache evicts past max bytes', async (t) => {
  const settings = redisForTest(t);
  if (!settings) return;
  const store = new RedisCacheStore(leaseFor(settings), { maxEntries: 1000, maxBytes: 10_000 });
  t.after(() => store.close());
  for (let index = 0; index < 20; index++) {
    await store.set(`key-${index}`, responseEntry('x'.repeat(2000)), ['tag']);
  }
  const size = await store.size();
  assert.ok(size.bytes <= 10_000, `bytes ${size.bytes} must stay within 10000`);
  assert.ok(size.entries >= 1, 'recent entries must stay');
  assert.ok(await store.get('key-19'), 'the newest entry must stay');
});

test('redis cache declines an entry over capacity', async (t) => {
  const settings = redisForTest(t);
  if (!settings) return;
  const store = new RedisCacheStore(leaseFor(settings), { maxEntries: 10, maxBytes: 1000 });
  t.after(() => store.close());
  await store.set('small', responseEntry('ok'), ['t']);
  await store.set('huge', responseEntry('x'.repeat(5000)), ['t']);
  assert.equal(await store.get('huge'), undefined);
  assert.ok(await store.get('small'), 'a declined entry must not evict others');
});

test('redis cache keeps binary bodies and frees bytes', async (t) => {
  const settings = redisForTest(t);
  if (!settings) return;
  const store = new RedisCacheStore(leaseFor(settings), cacheLimits);
  t.after(() => store.close());
  const entry = { ...responseEntry(''), body: Buffer.from([0, 255, 13, 10, 0x80]) };
  await store.set('GET h/bin', entry, ['h/bin']);
  const found = await store.get('GET h/bin');
  assert.ok(found?.body.equals(entry.body), 'body bytes are kept exactly');
  await store.invalidate('h/bin');
  assert.deepEqual(await store.size(), { entries: 0, bytes: 0 });
});

test('redis idempotency claims once across clients', async (t) => {
  const settings = redisForTest(t);
  if (!settings) return;
  const first = new RedisIdempotencyStore(leaseFor(settings));
  const second = new RedisIdempotencyStore(leaseFor({ ...settings, commandTimeoutMs: 1_500 }));
  t.after(async () => {
    await first.close();
    await second.close();
  });
  const results = await Promise.all(
    Array.from({ length: 20 }, (_, index) => (index % 2 ? first : second).claim('evt', 60_000)),
  );
  assert.equal(results.filter(Boolean).length, 1);
});

test('redis lock has one holder at a time', async (t) => {
  const settings = redisForTest(t);
  if (!settings) return;
  const lease = leaseFor(settings);
  t.after(() => lease.release());
  const key = `${settings.keyPrefix}lock:test`;
  const first = new RedisLock(lease.client, key, 300);
  const second = new RedisLock(lease.client, key, 300);
  assert.equal(await first.acquire(), true);
  assert.equal(await second.acquire(), false, 'a held lock is not taken');
  assert.equal(await first.acquire(), true, 'the holder takes it again');
  let lost = '';
  first.hold((reason) => {
    lost = reason;
  });
  await new Promise((resolve) => setTimeout(resolve, 700));
  assert.equal(lost, '', 'renewal keeps the lock past its TTL');
  assert.equal(await second.acquire(), false);
  await first.release();
  assert.equal(await second.acquire(), true, 'a released lock is free');
  await first.release();
  assert.equal(await second.renew(), true, 'a stale release frees no one else');
  await second.release();
});

test('redis lock reports loss to another holder', async (t) => {
  const settings = redisForTest(t);
  if (!settings) return;
  const lease = leaseFor(settings);
  t.after(() => lease.release());
  const key = `${settings.keyPrefix}lock:lost`;
  const first = new RedisLock(lease.client, key, 300);
  assert.equal(await first.acquire(), true);
  const reason = new Promise<string>((resolve) => first.hold(resolve));
  await lease.client.set(key, 'another-token', 'PX', 60_000);
  assert.match(await reason, /another instance holds it/);
  await first.release();
  assert.equal(await lease.client.get(key), 'another-token');
});
