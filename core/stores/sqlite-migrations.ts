/**
 * Schema of the embedded store, one entry per version. `PRAGMA user_version` records the last
 * migration applied; a migration, once released, is never edited, only followed by a new one.
 */
export const SQLITE_MIGRATIONS: readonly string[] = [
  // 1: idempotency keys, the delivery queue with its attempts, and event-source cursors.
  `
  CREATE TABLE idempotency_keys (
    key TEXT PRIMARY KEY,
    expires_at INTEGER NOT NULL,
    delivery_id TEXT
  );
  CREATE INDEX idempotency_keys_expiry ON idempotency_keys (expires_at);

  CREATE TABLE deliveries (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    route TEXT NOT NULL,
    provider TEXT NOT NULL,
    event_id TEXT,
    event_type TEXT,
    target TEXT NOT NULL,
    body BLOB NOT NULL,
    headers TEXT NOT NULL,
    received_at INTEGER NOT NULL,
    order_key TEXT,
    max_age_ms INTEGER NOT NULL,
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    retry_step INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    window_start INTEGER NOT NULL,
    lease_until INTEGER,
    updated_at INTEGER NOT NULL,
    delivered_at INTEGER,
    last_status INTEGER,
    last_error TEXT,
    dead_reason TEXT
  );
  CREATE INDEX deliveries_due ON deliveries (status, target, next_attempt_at);
  CREATE INDEX deliveries_order ON deliveries (order_key, status, seq);
  CREATE INDEX deliveries_received ON deliveries (received_at);

  CREATE TABLE delivery_attempts (
    delivery_id TEXT NOT NULL REFERENCES deliveries (id) ON DELETE CASCADE,
    number INTEGER NOT NULL,
    started_at INTEGER NOT NULL,
    finished_at INTEGER NOT NULL,
    status_code INTEGER,
    error TEXT,
    response_excerpt TEXT,
    PRIMARY KEY (delivery_id, number)
  );

  CREATE TABLE cursors (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL,
    updated_at INTEGER NOT NULL
  );
  `,
  // 2: the earliest due delivery in one index seek, however long the backlog.
  `
  CREATE INDEX deliveries_next_due ON deliveries (status, next_attempt_at);
  `,
];
