import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { MemoryIdempotencyStore } from '../core/index.js';

describe('memory idempotency store', () => {
  test('claims a key once until it expires', async () => {
    let now = 1_000;
    const store = new MemoryIdempotencyStore(10, () => now);
    assert.equal(await store.claim('evt_1', 500), true);
    assert.equal(await store.claim('evt_1', 500), false);
    now += 499;
    assert.equal(await store.claim('evt_1', 500), false);
    now += 1;
    assert.equal(await store.claim('evt_1', 500), true);
  });

  test('forgets a released key', async () => {
    const store = new MemoryIdempotencyStore();
    assert.equal(await store.claim('evt_2', 60_000), true);
    await store.release('evt_2');
    assert.equal(await store.claim('evt_2', 60_000), true);
    assert.equal(store.size(), 1);
  });

  test('drops the oldest keys past its bound', async () => {
    const store = new MemoryIdempotencyStore(3, () => 0);
    for (const key of ['a', 'b', 'c', 'd']) {
      assert.equal(await store.claim(key, 60_000), true, key);
    }
    assert.equal(store.size(), 3);
    assert.equal(await store.claim('a', 60_000), true, 'the oldest key was evicted');
    assert.equal(await store.claim('d', 60_000), false, 'a recent key is kept');
  });
});
