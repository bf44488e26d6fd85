import type { SqliteConnection } from './sqlite-database.js';

interface QueuedWrite {
  write: () => unknown;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };

/**
 * Group commit for SQLite writes. The writes queued during one event-loop turn run in a single
 * IMMEDIATE transaction, so one sync of the write-ahead log covers all of them. Each write runs in
 * its own savepoint, so a write that throws rolls back and rejects only its own caller. A failed
 * commit rejects every caller of the batch. A promise settles only after its batch committed, so
 * a caller that acknowledges on resolve acknowledges durable data.
 */
export class SqliteGroupCommit {
  private queue: QueuedWrite[] = [];
  private scheduled = false;
  private readonly savepoint: (write: () => unknown) => unknown;

  constructor(private readonly db: SqliteConnection) {
    this.savepoint = db.transaction((write: () => unknown) => write());
  }

  /** Queues `write` for the next batch and resolves with its return value once committed. */
  run<T>(write: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ write, resolve: resolve as (value: unknown) => void, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        // setImmediate runs after the poll phase, so every request read in this turn joins.
        setImmediate(() => this.flush());
      }
    });
  }

  /** Commits the queued writes now. The owner calls it before closing the connection. */
  flush(): void {
    this.scheduled = false;
    const batch = this.queue;
    this.queue = [];
    if (batch.length === 0 || !this.db.open) {
      for (const queued of batch) {
        queued.reject(new Error('the SQLite database was closed before the write committed'));
      }
      return;
    }
    const outcomes: Outcome[] = [];
    try {
      this.db
        .transaction(() => {
          for (const queued of batch) {
            try {
              outcomes.push({ ok: true, value: this.savepoint(queued.write) });
            } catch (error) {
              outcomes.push({ ok: false, error });
            }
          }
        })
        .immediate();
    } catch (error) {
      for (const queued of batch) {
        queued.reject(error);
      }
      return;
    }
    batch.forEach((queued, index) => {
      const outcome = outcomes[index];
      if (outcome.ok) {
        queued.resolve(outcome.value);
      } else {
        queued.reject(outcome.error);
      }
    });
  }
}

const groupCommits = new WeakMap<SqliteConnection, SqliteGroupCommit>();

/** Returns the group commit of `db`, shared by every store on that connection. */
export function groupCommitFor(db: SqliteConnection): SqliteGroupCommit {
  let groupCommit = groupCommits.get(db);
  if (!groupCommit) {
    groupCommit = new SqliteGroupCommit(db);
    groupCommits.set(db, groupCommit);
  }
  return groupCommit;
}
