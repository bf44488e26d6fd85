import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { IdempotencyStore } from '../../core/index.js';

/** How a suite run creates and removes the store under test. */
export interface IdempotencyStoreFactory {
  /** A fresh, empty store; keys must not leak between calls (use a unique prefix if shared). */
  create(): Promise<IdempotencyStore> | IdempotencyStore;
  /** Stops the store after a test; defaults to `store.close()`. */
  dispose?(store: IdempotencyStore): Promise<void> | void;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The behaviour every {@link IdempotencyStore} implementation must show. Expiry is tested with
 * a TTL of a few hundred milliseconds on the real clock, so the suite also runs against Redis.
 */
export function idempotencyStoreSuite(name: string, factory: IdempotencyStoreFactory): void {
  describe(`idempotency store: ${name}`, () => {
    const withStore = (run: (store: IdempotencyStore) => Promise<void>) => async () => {
      const store = await factory.create();
      try {
        await run(store);
      } finally {
        await (factory.dispose ? factory.dispose(store) : store.close?.());
      }
    };

    test(
      'claims a key once',
      withStore(async (store) => {
        assert.equal(await store.claim('evt_1', 60_000), true);
        assert.equal(await store.claim('evt_1', 60_000), false, 'a held key is a duplicate');
      }),
    );

    test(
      'keeps keys apart',
      withStore(async (store) => {
        assert.equal(await store.claim('evt_a', 60_000), true);
        assert.equal(await store.claim('evt_b', 60_000), true);
      }),
    );

    test(
      'claims an expired key again',
      withStore(async (store) => {
        assert.equal(await store.claim('evt_short', 150), true);
        await sleep(350);
        assert.equal(await store.claim('evt_short', 150), true);
      }),
    );

    test(
      'claims a released key again',
      withStore(async (store) => {
        await store.claim('evt_released', 60_000);
        await store.release('evt_released');
        assert.equal(await store.claim('evt_released', 60_000), true);
      }),
    );

    test(
      'lets one of concurrent claims win',
      withStore(async (store) => {
        const results = await Promise.all(
          Array.from({ length: 20 }, () => store.claim('evt_race', 60_000)),
        );
        assert.equal(results.filter(Boolean).length, 1);
      }),
    );

    test(
      'reports its size',
      withStore(async (store) => {
        await store.claim('evt_s1', 60_000);
        await store.claim('evt_s2', 60_000);
        assert.equal(await store.size(), 2);
      }),
    );
  });
}
