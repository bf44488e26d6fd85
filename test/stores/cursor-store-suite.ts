import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { CursorStore } from '../../core/index.js';

/** How a suite run creates and removes the store under test. */
export interface CursorStoreFactory {
  /** A fresh, empty store; keys must not leak between calls (use a unique prefix if shared). */
  create(): Promise<CursorStore> | CursorStore;
  /** Stops the store after a test; defaults to `store.close()`. */
  dispose?(store: CursorStore): Promise<void> | void;
}

/** The behaviour every {@link CursorStore} implementation must show. */
export function cursorStoreSuite(name: string, factory: CursorStoreFactory): void {
  describe(`cursor store: ${name}`, () => {
    const withStore = (run: (store: CursorStore) => Promise<void>) => async () => {
      const store = await factory.create();
      try {
        await run(store);
      } finally {
        await (factory.dispose ? factory.dispose(store) : store.close?.());
      }
    };

    test(
      'returns nothing for an unknown key',
      withStore(async (store) => {
        assert.equal(await store.get('source:shop:order:cursor'), undefined);
      }),
    );

    test(
      'keeps the last value set',
      withStore(async (store) => {
        await store.set('source:shop:order:cursor', 'evt-1');
        await store.set('source:shop:order:cursor', 'evt-2');
        assert.equal(await store.get('source:shop:order:cursor'), 'evt-2');
      }),
    );

    test(
      'keeps keys apart and deletes one',
      withStore(async (store) => {
        await store.set('source:a:cursor', '1');
        await store.set('source:b:cursor', '2');
        await store.delete('source:a:cursor');
        assert.equal(await store.get('source:a:cursor'), undefined);
        assert.equal(await store.get('source:b:cursor'), '2');
      }),
    );
  });
}
