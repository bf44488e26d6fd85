import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { CacheEntry, CacheStore } from '../../core/index.js';

/** How a suite run creates and removes the store under test. */
export interface CacheStoreFactory {
  /** A fresh, empty store; keys must not leak between calls (use a unique prefix if shared). */
  create(): Promise<CacheStore> | CacheStore;
  /** Stops the store after a test; defaults to `store.close()`. */
  dispose?(store: CacheStore): Promise<void> | void;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A response entry fresh for `ttlMs`. */
export function responseEntry(body: string, ttlMs = 60_000): CacheEntry {
  const now = Date.now();
  return {
    status: 200,
    headers: { 'content-type': 'text/plain', etag: '"v1"', vary: ['accept', 'origin'] },
    body: Buffer.from(body),
    storedAt: now,
    expiresAt: now + ttlMs,
  };
}

/**
 * The behaviour every `cache-store` implementation must show. Call it from a test file with a
 * factory for the implementation.
 */
export function cacheStoreSuite(name: string, factory: CacheStoreFactory): void {
  describe(`cache store: ${name}`, () => {
    const withStore = (run: (store: CacheStore) => Promise<void>) => async () => {
      const store = await factory.create();
      try {
        await run(store);
      } finally {
        await (factory.dispose ? factory.dispose(store) : store.close?.());
      }
    };

    test(
      'returns what was stored',
      withStore(async (store) => {
        const entry = responseEntry('hello');
        await store.set('GET host/a', entry, ['host/a']);
        const found = await store.get('GET host/a');
        assert.ok(found, 'the entry must be found');
        assert.equal(found.status, 200);
        assert.equal(found.body.toString(), 'hello');
        assert.deepEqual(found.headers, entry.headers);
        assert.equal(found.storedAt, entry.storedAt);
        assert.equal(found.expiresAt, entry.expiresAt);
      }),
    );

    test(
      'returns nothing for an unknown key',
      withStore(async (store) => {
        assert.equal(await store.get('GET host/missing'), undefined);
      }),
    );

    test(
      'keeps a variant index',
      withStore(async (store) => {
        const now = Date.now();
        const index: CacheEntry = {
          status: 0,
          headers: {},
          body: Buffer.alloc(0),
          storedAt: now,
          expiresAt: now + 60_000,
          vary: ['accept-language'],
        };
        await store.set('GET host/v', index, ['host/v']);
        const found = await store.get('GET host/v');
        assert.deepEqual(found?.vary, ['accept-language']);
        assert.equal(found?.body.length, 0);
      }),
    );

    test(
      'replaces an entry under the same key',
      withStore(async (store) => {
        await store.set('GET host/r', responseEntry('first'), ['host/r']);
        await store.set('GET host/r', responseEntry('second'), ['host/r']);
        assert.equal((await store.get('GET host/r'))?.body.toString(), 'second');
        assert.equal((await store.size()).entries, 1);
      }),
    );

    test(
      'expires entries',
      withStore(async (store) => {
        await store.set('GET host/e', responseEntry('soon gone', 150), ['host/e']);
        assert.ok(await store.get('GET host/e'), 'the entry must be there before it expires');
        await sleep(300);
        assert.equal(await store.get('GET host/e'), undefined);
      }),
    );

    test(
      'deletes one entry',
      withStore(async (store) => {
        await store.set('GET host/d1', responseEntry('one'), ['host/d']);
        await store.set('GET host/d2', responseEntry('two'), ['host/d']);
        await store.delete('GET host/d1');
        assert.equal(await store.get('GET host/d1'), undefined);
        assert.ok(await store.get('GET host/d2'), 'the other entry must stay');
      }),
    );

    test(
      'invalidates every entry of a tag',
      withStore(async (store) => {
        await store.set('GET host/t?a=1', responseEntry('a'), ['host/t']);
        await store.set('HEAD host/t', responseEntry(''), ['host/t']);
        await store.set('GET host/other', responseEntry('b'), ['host/other']);
        await store.invalidate('host/t');
        assert.equal(await store.get('GET host/t?a=1'), undefined);
        assert.equal(await store.get('HEAD host/t'), undefined);
        assert.ok(await store.get('GET host/other'), 'entries of other tags must stay');
      }),
    );

    test(
      'reports entries and bytes',
      withStore(async (store) => {
        await store.set('GET host/s1', responseEntry('x'.repeat(1000)), ['host/s']);
        await store.set('GET host/s2', responseEntry('y'.repeat(1000)), ['host/s']);
        const size = await store.size();
        assert.equal(size.entries, 2);
        assert.ok(size.bytes >= 2000, `bytes ${size.bytes} must count both bodies`);
      }),
    );
  });
}
