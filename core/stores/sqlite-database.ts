import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { SQLITE_MIGRATIONS } from './sqlite-migrations.js';

/** A better-sqlite3 connection. */
export type SqliteConnection = Database.Database;

/** File name of the embedded store inside `storage.path`. */
export const SQLITE_FILE_NAME = 'pactown.db';

/** Options of {@link openSqliteDatabase}. */
export interface SqliteOptions {
  /**
   * `full` syncs the write-ahead log on every commit, so an acknowledged webhook survives a power
   * loss; `normal` survives a process crash only, and commits faster.
   */
  synchronous?: 'full' | 'normal';
}

/**
 * A shared connection to one database file. Every user of the same file in a process gets the
 * same connection; the file closes when the last user calls {@link SqliteHandle.close}.
 */
export interface SqliteHandle {
  readonly db: SqliteConnection;
  readonly file: string;
  close(): void;
}

interface OpenFile {
  db: SqliteConnection;
  users: number;
}

const openFiles = new Map<string, OpenFile>();

/**
 * Opens (creating it if needed) the database at `file` in WAL mode and applies the pending
 * migrations. Throws when the file has a schema newer than the migrations of this gateway.
 */
export function openSqliteDatabase(file: string, options: SqliteOptions = {}): SqliteHandle {
  const path = resolve(file);
  let open = openFiles.get(path);
  if (!open) {
    mkdirSync(dirname(path), { recursive: true });
    const db = new Database(path);
    try {
      configure(db, options);
      migrate(db, path);
    } catch (error) {
      db.close();
      throw error;
    }
    open = { db, users: 0 };
    openFiles.set(path, open);
  }
  open.users += 1;
  return handleFor(path, open);
}

function handleFor(path: string, open: OpenFile): SqliteHandle {
  let closed = false;
  return {
    db: open.db,
    file: path,
    close() {
      if (closed) {
        return;
      }
      closed = true;
      open.users -= 1;
      if (open.users === 0) {
        openFiles.delete(path);
        open.db.close();
      }
    },
  };
}

function configure(db: SqliteConnection, options: SqliteOptions): void {
  db.pragma('journal_mode = WAL');
  db.pragma(`synchronous = ${options.synchronous === 'normal' ? 'NORMAL' : 'FULL'}`);
  db.pragma('foreign_keys = ON');
  // Another process (the CLI replaying deliveries) may hold the write lock for a moment.
  db.pragma('busy_timeout = 5000');
}

/** Applies every migration above the file's `user_version`, each in its own transaction. */
function migrate(db: SqliteConnection, path: string): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current > SQLITE_MIGRATIONS.length) {
    throw new Error(
      `${path} has schema version ${current}, but this gateway knows versions up to ${SQLITE_MIGRATIONS.length}; upgrade the gateway or point storage.path elsewhere`,
    );
  }
  for (let version = current; version < SQLITE_MIGRATIONS.length; version++) {
    db.transaction(() => {
      db.exec(SQLITE_MIGRATIONS[version]);
      db.pragma(`user_version = ${version + 1}`);
    }).immediate();
  }
}
