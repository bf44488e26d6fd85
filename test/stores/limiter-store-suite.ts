import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { LimiterStore } from '../../core/index.js';

/** How a suite run creates and removes the store under test. */
export interface LimiterStoreFactory {
  /** A fresh, empty store; keys must not leak between calls (use a unique prefix if shared). */
  create(): Promise<LimiterStore> | LimiterStore;
  /** Stops the store after a test; defaults to `store.close()`. */
  dispose?(store: LimiterStore): Promise<void> | void;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The behaviour every `limiter-store` implementation must show. Call it from a test file with a
 * factory for the implementation; windows are kept short (a few hundred milliseconds) so the
 * suite also runs against a networked store.
 */
export function limiterStoreSuite(name: string, factory: LimiterStoreFactory): void {
  describe(`limiter store: ${name}`, () => {
    const withStore = (run: (store: LimiterStore) => Promise<void>) => async () => {
      const store = await factory.create();
      try {
        await run(store);
      } finally {
        await (factory.dispose ? factory.dispose(store) : store.close?.());
      }
    };

    test(
      'counts hits within a window',
      withStore(async (store) => {
        const counts: number[] = [];
        for (let hit = 0; hit < 5; hit++) {
          counts.push((await store.incr('client-a', 60_000)).current);
        }
        assert.deepEqual(counts, [1, 2, 3, 4, 5]);
      }),
    );

    test(
      'reports the time left in the window',
      withStore(async (store) => {
        const first = await store.incr('client-ttl', 60_000);
        assert.ok(first.ttl > 0, `ttl ${first.ttl} must be positive`);
        assert.ok(first.ttl <= 60_000, `ttl ${first.ttl} must not exceed the window`);
        const second = await store.incr('client-ttl', 60_000);
        assert.ok(second.ttl <= first.ttl, 'the ttl must not grow within a window');
      }),
    );

    test(
      'keeps keys apart',
      withStore(async (store) => {
        await store.incr('client-b', 60_000);
        await store.incr('client-b', 60_000);
        const other = await store.incr('client-c', 60_000);
        assert.equal(other.current, 1);
      }),
    );

    test(
      'starts a new window after the old one ends',
      withStore(async (store) => {
        await store.incr('client-d', 200);
        await store.incr('client-d', 200);
        await sleep(350);
        const next = await store.incr('client-d', 200);
        assert.equal(next.current, 1);
      }),
    );

    test(
      'counts concurrent hits exactly',
      withStore(async (store) => {
        const results = await Promise.all(
          Array.from({ length: 50 }, () => store.incr('client-e', 60_000)),
        );
        const counts = results.map((result) => result.current).sort((a, b) => a - b);
        assert.deepEqual(
          counts,
          Array.from({ length: 50 }, (_, index) => index + 1),
        );
      }),
    );

    test(
      'reports its size',
      withStore(async (store) => {
        await store.incr('client-f', 60_000);
        await store.incr('client-g', 60_000);
        const size = await store.size();
        assert.ok(size >= 2, `size ${size} must count both keys`);
      }),
    );
  });
}
