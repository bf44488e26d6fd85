import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MemoryCacheStore } from '../../plugins/memory-cache/store.js';
import { MemoryLimiterStore } from '../../plugins/memory-limiter/store.js';
import { cacheStoreSuite, responseEntry } from './cache-store-suite.js';
import { limiterStoreSuite } from './limiter-store-suite.js';

limiterStoreSuite('memory', { create: () => new MemoryLimiterStore() });
cacheStoreSuite('memory', { create: () => new MemoryCacheStore() });

test('memory limiter stays within max keys', async () => {
  const store = new MemoryLimiterStore(1000);
  for (let client = 0; client < 10_000; client++) {
    await store.incr(`client-${client}`, 60_000);
  }
  assert.equal(store.size(), 1000);
  const newest = await store.incr('client-9999', 60_000);
  assert.equal(newest.current, 2, 'the most recent clients keep their counts');
});

test('memory limiter drops ended windows first', async () => {
  let now = 0;
  const store = new MemoryLimiterStore(3, () => now);
  await store.incr('short', 10);
  await store.incr('long-a', 60_000);
  now = 20;
  await store.incr('long-b', 60_000);
  await store.incr('long-c', 60_000);
  assert.equal(store.size(), 3);
  assert.equal((await store.incr('long-a', 60_000)).current, 2, 'long-a must survive');
});

test('memory limiter resets at the window end', async () => {
  let now = 1000;
  const store = new MemoryLimiterStore(10, () => now);
  await store.incr('client', 100);
  now = 1099;
  assert.deepEqual(await store.incr('client', 100), { current: 2, ttl: 1 });
  now = 1100;
  assert.deepEqual(await store.incr('client', 100), { current: 1, ttl: 100 });
});

test('memory cache evicts past max entries', async () => {
  const store = new MemoryCacheStore(3, 1024 ** 2);
  for (const key of ['a', 'b', 'c']) {
    await store.set(key, responseEntry(key), [key]);
  }
  await store.get('a');
  await store.set('d', responseEntry('d'), ['d']);
  assert.equal(store.size().entries, 3);
  assert.equal(await store.get('b'), undefined, 'the least recently used entry goes first');
  assert.ok(await store.get('a'), 'a read entry counts as recently used');
});

test('memory cache evicts past max bytes', async () => {
  const store = new MemoryCacheStore(1000, 10_000);
  for (let index = 0; index < 20; index++) {
    await store.set(`key-${index}`, responseEntry('x'.repeat(2000)), ['tag']);
  }
  const size = store.size();
  assert.ok(size.bytes <= 10_000, `bytes ${size.bytes} must stay within 10000`);
  assert.ok(size.entries >= 1, 'recent entries must stay');
  assert.ok(await store.get('key-19'), 'the newest entry must stay');
});

test('memory cache declines an entry over capacity', async () => {
  const store = new MemoryCacheStore(10, 1000);
  await store.set('small', responseEntry('ok'), ['t']);
  await store.set('huge', responseEntry('x'.repeat(5000)), ['t']);
  assert.equal(await store.get('huge'), undefined);
  assert.ok(await store.get('small'), 'a declined entry must not evict others');
});

test('memory cache invalidation frees bytes', async () => {
  const store = new MemoryCacheStore();
  await store.set('GET h/p', responseEntry('x'.repeat(500)), ['h/p']);
  await store.invalidate('h/p');
  assert.deepEqual(store.size(), { entries: 0, bytes: 0 });
});
