import type { GatewayConfig } from '../config/types.js';
import { readStorageSettings } from '../delivery/settings.js';
import type { IdempotencyStore } from './interfaces.js';
import { openSqliteDatabase, type SqliteHandle } from './sqlite-database.js';

/**
 * Idempotency keys in the embedded SQLite store, so de-duplication survives a restart. Shares the
 * `idempotency_keys` table with the delivery queue, which claims its keys in the same transaction
 * as the enqueue.
 */
export class SqliteIdempotencyStore implements IdempotencyStore {
  private readonly insert;
  private readonly remove;
  private readonly count;
  private readonly purge;
  private claimsSincePurge = 0;

  constructor(
    private readonly handle: SqliteHandle,
    private readonly now: () => number = Date.now,
  ) {
    const { db } = handle;
    // An expired key is overwritten; a live one is left alone, so `changes` is 1 only for a new claim.
    this.insert = db.prepare(
      `INSERT INTO idempotency_keys (key, expires_at) VALUES (?, ?)
       ON CONFLICT (key) DO UPDATE SET expires_at = excluded.expires_at, delivery_id = NULL
       WHERE idempotency_keys.expires_at <= ?`,
    );
    this.remove = db.prepare('DELETE FROM idempotency_keys WHERE key = ?');
    this.count = db.prepare('SELECT COUNT(*) AS n FROM idempotency_keys WHERE expires_at > ?');
    this.purge = db.prepare('DELETE FROM idempotency_keys WHERE expires_at <= ?');
  }

  async claim(key: string, ttlMs: number): Promise<boolean> {
    const time = this.now();
    const claimed = this.insert.run(key, time + ttlMs, time).changes === 1;
    this.purgeNowAndThen(time);
    return claimed;
  }

  async release(key: string): Promise<void> {
    this.remove.run(key);
  }

  size(): number {
    return (this.count.get(this.now()) as { n: number }).n;
  }

  async close(): Promise<void> {
    this.handle.close();
  }

  // Expired keys cost only disk space, so they are swept every thousand claims, not on each one.
  private purgeNowAndThen(time: number): void {
    this.claimsSincePurge += 1;
    if (this.claimsSincePurge >= 1000) {
      this.claimsSincePurge = 0;
      this.purge.run(time);
    }
  }
}

/** Creates the SQLite idempotency store of a config with a `storage:` section; undefined without one. */
export function sqliteIdempotencyStoreFor(
  config: GatewayConfig,
): SqliteIdempotencyStore | undefined {
  if (config.raw.storage === undefined) {
    return undefined;
  }
  const storage = readStorageSettings(config);
  return new SqliteIdempotencyStore(openSqliteDatabase(storage.file, storage.sqlite));
}
