import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MemoryIdempotencyStore } from '../../core/stores/memory-idempotency.js';
import { SqliteCursorStore } from '../../core/stores/sqlite-cursors.js';
import { openSqliteDatabase } from '../../core/stores/sqlite-database.js';
import { SqliteIdempotencyStore } from '../../core/stores/sqlite-idempotency.js';
import { cursorStoreSuite } from './cursor-store-suite.js';
import { idempotencyStoreSuite } from './idempotency-store-suite.js';

/** Opens a database in a fresh temporary folder; the returned function removes it. */
function temporaryDatabase() {
  const dir = mkdtempSync(join(tmpdir(), 'pactown-stores-'));
  const handle = openSqliteDatabase(join(dir, 'pactown.db'));
  return { handle, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

idempotencyStoreSuite('memory', { create: () => new MemoryIdempotencyStore() });

const sqliteFolders = new Map<object, () => void>();

idempotencyStoreSuite('sqlite', {
  create: () => {
    const { handle, remove } = temporaryDatabase();
    const store = new SqliteIdempotencyStore(handle);
    sqliteFolders.set(store, remove);
    return store;
  },
  dispose: async (store) => {
    await store.close?.();
    sqliteFolders.get(store)?.();
  },
});

cursorStoreSuite('sqlite', {
  create: () => {
    const { handle, remove } = temporaryDatabase();
    const store = new SqliteCursorStore(handle);
    sqliteFolders.set(store, remove);
    return store;
  },
  dispose: async (store) => {
    await store.close?.();
    sqliteFolders.get(store)?.();
  },
});
