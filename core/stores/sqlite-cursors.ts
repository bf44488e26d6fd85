import type { CursorStore } from '../delivery/store.js';
import type { SqliteHandle } from './sqlite-database.js';

/** Event-source cursors in the embedded SQLite store. */
export class SqliteCursorStore implements CursorStore {
  private readonly select;
  private readonly upsert;
  private readonly remove;

  constructor(
    private readonly handle: SqliteHandle,
    private readonly now: () => number = Date.now,
  ) {
    const { db } = handle;
    this.select = db.prepare('SELECT value FROM cursors WHERE key = ?');
    this.upsert = db.prepare(
      `INSERT INTO cursors (key, value, updated_at) VALUES (?, ?, ?)
       ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`,
    );
    this.remove = db.prepare('DELETE FROM cursors WHERE key = ?');
  }

  async get(key: string): Promise<string | undefined> {
    return (this.select.get(key) as { value: string } | undefined)?.value;
  }

  async set(key: string, value: string): Promise<void> {
    this.upsert.run(key, value, this.now());
  }

  async delete(key: string): Promise<void> {
    this.remove.run(key);
  }

  async close(): Promise<void> {
    this.handle.close();
  }
}
