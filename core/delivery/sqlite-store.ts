import type { SqliteConnection, SqliteHandle } from '../stores/sqlite-database.js';
import { groupCommitFor, type SqliteGroupCommit } from '../stores/sqlite-group-commit.js';
import {
  type AttemptResolution,
  type ClaimRequest,
  DELIVERY_STATUSES,
  type DedupeClaim,
  type Delivery,
  type DeliveryAttempt,
  type DeliveryFilter,
  type DeliveryPage,
  type DeliveryStatus,
  type DeliveryStore,
  type EnqueueResult,
  type NewDelivery,
} from './store.js';

interface DeliveryRow {
  seq: number;
  id: string;
  route: string;
  provider: string;
  event_id: string | null;
  event_type: string | null;
  target: string;
  body: Buffer;
  headers: string;
  received_at: number;
  order_key: string | null;
  max_age_ms: number;
  status: DeliveryStatus;
  attempts: number;
  retry_step: number;
  next_attempt_at: number;
  window_start: number;
  updated_at: number;
  delivered_at: number | null;
  last_status: number | null;
  last_error: string | null;
  dead_reason: string | null;
}

interface AttemptRow {
  number: number;
  started_at: number;
  finished_at: number;
  status_code: number | null;
  error: string | null;
  response_excerpt: string | null;
}

/** Statuses that replay may change; an in-flight delivery finishes its attempt first. */
const REPLAYABLE = "status IN ('pending', 'delivered', 'dead')";

/**
 * An in-flight delivery whose lease expired because its worker died, claimable like a pending one.
 * Pending and expired deliveries are read by separate queries, so each can use an index.
 */
const EXPIRED_LEASE = "status = 'in_flight' AND lease_until <= @now AND next_attempt_at <= @now";

/** An ordered delivery is eligible only when no older unfinished delivery shares its key. */
const HEAD_OF_ORDER = `(d.order_key IS NULL OR NOT EXISTS (
  SELECT 1 FROM deliveries AS older WHERE older.order_key = d.order_key
    AND older.seq < d.seq AND older.status IN ('pending', 'in_flight')))`;

/** The delivery queue in the embedded SQLite store. */
export class SqliteDeliveryStore implements DeliveryStore {
  private readonly db: SqliteConnection;
  private readonly statements;
  /** Enqueues and completions of one event-loop turn share one commit and one WAL sync. */
  private readonly groupCommit: SqliteGroupCommit;

  constructor(private readonly handle: SqliteHandle) {
    this.db = handle.db;
    this.statements = prepareStatements(this.db);
    this.groupCommit = groupCommitFor(this.db);
  }

  enqueue(delivery: NewDelivery, dedupe?: DedupeClaim): Promise<EnqueueResult> {
    return this.groupCommit.run((): EnqueueResult => {
      if (dedupe) {
        const now = delivery.receivedAt;
        const claimed = this.statements.claimKey.run(
          dedupe.key,
          now + dedupe.ttlMs,
          delivery.id,
          now,
        );
        if (claimed.changes === 0) {
          const holder = this.statements.keyHolder.get(dedupe.key) as
            | { delivery_id: string | null }
            | undefined;
          return { status: 'duplicate', id: holder?.delivery_id ?? undefined };
        }
      }
      this.statements.insert.run({
        id: delivery.id,
        route: delivery.route,
        provider: delivery.provider,
        event_id: delivery.eventId ?? null,
        event_type: delivery.eventType ?? null,
        target: delivery.target,
        body: delivery.body,
        headers: JSON.stringify(delivery.headers),
        received_at: delivery.receivedAt,
        order_key: delivery.orderKey ?? null,
        max_age_ms: delivery.maxAgeMs,
      });
      return { status: 'queued', id: delivery.id };
    });
  }

  async claim(request: ClaimRequest): Promise<Delivery[]> {
    const run = this.db.transaction(() => {
      const claimed: DeliveryRow[] = [];
      for (const target of this.dueTargets(request.now)) {
        const room = Math.min(request.freeSlots(target), request.limit - claimed.length);
        if (room <= 0) {
          continue;
        }
        for (const row of this.dueForTarget(target, request.now, room)) {
          this.statements.lease.run(request.now + request.leaseMs, request.now, row.id);
          claimed.push({ ...row, status: 'in_flight' });
        }
        if (claimed.length >= request.limit) {
          break;
        }
      }
      return claimed;
    });
    return run.immediate().map(toDelivery);
  }

  /**
   * Returns the targets with a claimable delivery, the one due earliest first. Pending targets
   * come from an index skip-scan, one seek per target, so the cost does not grow with the backlog.
   */
  private dueTargets(now: number): string[] {
    const due = new Map<string, number>();
    const pending = this.statements.pendingTargets.all() as { target: string; due: number }[];
    const expired = this.statements.expiredTargets.all({ now }) as {
      target: string;
      due: number;
    }[];
    for (const row of [...pending, ...expired]) {
      const earliest = due.get(row.target);
      if (row.due <= now && (earliest === undefined || row.due < earliest)) {
        due.set(row.target, row.due);
      }
    }
    return [...due.entries()].sort((a, b) => a[1] - b[1]).map(([target]) => target);
  }

  /** Returns up to `limit` claimable deliveries of `target`, by due time, then enqueue order. */
  private dueForTarget(target: string, now: number, limit: number): DeliveryRow[] {
    const parameters = { now, target, limit };
    const pending = this.statements.pendingForTarget.all(parameters) as DeliveryRow[];
    const expired = this.statements.expiredForTarget.all(parameters) as DeliveryRow[];
    if (expired.length === 0) {
      return pending;
    }
    return [...pending, ...expired]
      .sort((a, b) => a.next_attempt_at - b.next_attempt_at || a.seq - b.seq)
      .slice(0, limit);
  }

  complete(id: string, attempt: DeliveryAttempt, resolution: AttemptResolution): Promise<void> {
    return this.groupCommit.run(() => {
      this.statements.insertAttempt.run({
        delivery_id: id,
        number: attempt.number,
        started_at: attempt.startedAt,
        finished_at: attempt.finishedAt,
        status_code: attempt.statusCode ?? null,
        error: attempt.error ?? null,
        response_excerpt: attempt.responseExcerpt ?? null,
      });
      this.statements.resolve.run({
        id,
        now: attempt.finishedAt,
        status: resolution.status,
        next_attempt_at: resolution.status === 'pending' ? resolution.nextAttemptAt : 0,
        dead_reason: resolution.status === 'dead' ? resolution.reason : null,
        last_status: attempt.statusCode ?? null,
        last_error: attempt.error ?? null,
      });
    });
  }

  async release(ids: string[], now: number): Promise<void> {
    const run = this.db.transaction(() => {
      for (const id of ids) {
        this.statements.release.run(now, id);
      }
    });
    run.immediate();
  }

  async recover(now: number): Promise<number> {
    return this.statements.recover.run(now).changes;
  }

  async nextDueAt(): Promise<number | undefined> {
    const row = this.statements.nextDue.get() as { due: number | null };
    return row.due ?? undefined;
  }

  async get(id: string): Promise<Delivery | undefined> {
    const row = this.statements.byId.get(id) as DeliveryRow | undefined;
    return row ? toDelivery(row) : undefined;
  }

  async attempts(id: string): Promise<DeliveryAttempt[]> {
    return (this.statements.attemptsOf.all(id) as AttemptRow[]).map(toAttempt);
  }

  async list(
    filter: DeliveryFilter,
    page: { limit: number; cursor?: string },
  ): Promise<DeliveryPage> {
    const { clause, parameters } = whereClause(filter);
    const before = page.cursor === undefined ? undefined : Number(page.cursor);
    const conditions = [clause, before === undefined ? '1' : 'seq < @before'].join(' AND ');
    const rows = this.db
      .prepare(`SELECT * FROM deliveries WHERE ${conditions} ORDER BY seq DESC LIMIT @limit`)
      .all({ ...parameters, before, limit: page.limit + 1 }) as DeliveryRow[];
    const more = rows.length > page.limit;
    const pageRows = more ? rows.slice(0, page.limit) : rows;
    return {
      deliveries: pageRows.map(toDelivery),
      nextCursor: more ? String(pageRows[pageRows.length - 1].seq) : undefined,
    };
  }

  async replay(id: string, now: number): Promise<boolean> {
    return this.statements.replayOne.run({ now, id }).changes === 1;
  }

  async replayMatching(filter: DeliveryFilter, now: number): Promise<number> {
    const { clause, parameters } = whereClause(filter);
    return this.db
      .prepare(`${REPLAY_SET} WHERE ${clause} AND ${REPLAYABLE}`)
      .run({ ...parameters, now }).changes;
  }

  async prune(before: number, statuses: DeliveryStatus[]): Promise<number> {
    const finished = statuses.filter((status) => status === 'delivered' || status === 'dead');
    if (finished.length === 0) {
      return 0;
    }
    const list = finished.map((status) => `'${status}'`).join(', ');
    return this.db
      .prepare(`DELETE FROM deliveries WHERE status IN (${list}) AND updated_at < ?`)
      .run(before).changes;
  }

  async counts(): Promise<Record<DeliveryStatus, number>> {
    const counts = Object.fromEntries(DELIVERY_STATUSES.map((status) => [status, 0])) as Record<
      DeliveryStatus,
      number
    >;
    for (const row of this.statements.counts.all() as { status: DeliveryStatus; n: number }[]) {
      counts[row.status] = row.n;
    }
    return counts;
  }

  async close(): Promise<void> {
    this.groupCommit.flush();
    this.handle.close();
  }
}

const REPLAY_SET = `UPDATE deliveries SET status = 'pending', next_attempt_at = @now,
  retry_step = 0, window_start = @now, lease_until = NULL, dead_reason = NULL, updated_at = @now`;

function prepareStatements(db: SqliteConnection) {
  return {
    // A live key is left alone (no change); an expired one is taken over by this delivery.
    claimKey: db.prepare(
      `INSERT INTO idempotency_keys (key, expires_at, delivery_id) VALUES (?, ?, ?)
       ON CONFLICT (key) DO UPDATE SET expires_at = excluded.expires_at,
         delivery_id = excluded.delivery_id
       WHERE idempotency_keys.expires_at <= ?`,
    ),
    keyHolder: db.prepare('SELECT delivery_id FROM idempotency_keys WHERE key = ?'),
    insert: db.prepare(
      `INSERT INTO deliveries (id, route, provider, event_id, event_type, target, body, headers,
         received_at, order_key, max_age_ms, status, next_attempt_at, window_start, updated_at)
       VALUES (@id, @route, @provider, @event_id, @event_type, @target, @body, @headers,
         @received_at, @order_key, @max_age_ms, 'pending', @received_at, @received_at,
         @received_at)`,
    ),
    // Walks the distinct targets of the (status, target, next_attempt_at) index by seeking past
    // each one, instead of reading every pending row.
    pendingTargets: db.prepare(
      `WITH RECURSIVE targets (target) AS (
         SELECT MIN(target) FROM deliveries WHERE status = 'pending'
         UNION ALL
         SELECT (SELECT MIN(target) FROM deliveries
                 WHERE status = 'pending' AND target > targets.target)
         FROM targets WHERE targets.target IS NOT NULL)
       SELECT target, (SELECT MIN(next_attempt_at) FROM deliveries
                       WHERE status = 'pending' AND target = targets.target) AS due
       FROM targets WHERE target IS NOT NULL`,
    ),
    expiredTargets: db.prepare(
      `SELECT target, MIN(next_attempt_at) AS due FROM deliveries WHERE ${EXPIRED_LEASE}
       GROUP BY target`,
    ),
    pendingForTarget: db.prepare(
      `SELECT * FROM deliveries AS d WHERE status = 'pending' AND target = @target
         AND next_attempt_at <= @now AND ${HEAD_OF_ORDER}
       ORDER BY next_attempt_at, seq LIMIT @limit`,
    ),
    expiredForTarget: db.prepare(
      `SELECT * FROM deliveries AS d WHERE target = @target AND ${EXPIRED_LEASE}
         AND ${HEAD_OF_ORDER}
       ORDER BY next_attempt_at, seq LIMIT @limit`,
    ),
    lease: db.prepare(
      `UPDATE deliveries SET status = 'in_flight', lease_until = ?, updated_at = ? WHERE id = ?`,
    ),
    insertAttempt: db.prepare(
      `INSERT INTO delivery_attempts (delivery_id, number, started_at, finished_at, status_code,
         error, response_excerpt)
       VALUES (@delivery_id, @number, @started_at, @finished_at, @status_code, @error,
         @response_excerpt)`,
    ),
    resolve: db.prepare(
      `UPDATE deliveries SET status = @status, attempts = attempts + 1,
         retry_step = CASE WHEN @status = 'pending' THEN retry_step + 1 ELSE retry_step END,
         next_attempt_at = @next_attempt_at, lease_until = NULL, updated_at = @now,
         delivered_at = CASE WHEN @status = 'delivered' THEN @now ELSE delivered_at END,
         dead_reason = @dead_reason, last_status = @last_status, last_error = @last_error
       WHERE id = @id`,
    ),
    release: db.prepare(
      `UPDATE deliveries SET status = 'pending', lease_until = NULL, updated_at = ?
       WHERE id = ? AND status = 'in_flight'`,
    ),
    recover: db.prepare(
      `UPDATE deliveries SET status = 'pending', lease_until = NULL, updated_at = ?
       WHERE status = 'in_flight'`,
    ),
    nextDue: db.prepare(
      `SELECT MIN(due) AS due FROM (
         SELECT MIN(next_attempt_at) AS due FROM deliveries WHERE status = 'pending'
         UNION ALL
         SELECT MIN(lease_until) FROM deliveries WHERE status = 'in_flight')`,
    ),
    byId: db.prepare('SELECT * FROM deliveries WHERE id = ?'),
    attemptsOf: db.prepare('SELECT * FROM delivery_attempts WHERE delivery_id = ? ORDER BY number'),
    replayOne: db.prepare(`${REPLAY_SET} WHERE id = @id AND ${REPLAYABLE}`),
    counts: db.prepare('SELECT status, COUNT(*) AS n FROM deliveries GROUP BY status'),
  };
}

function whereClause(filter: DeliveryFilter): {
  clause: string;
  parameters: Record<string, unknown>;
} {
  const conditions: string[] = ['1'];
  const parameters: Record<string, unknown> = {};
  const equal = { status: 'status', provider: 'provider', target: 'target', route: 'route' };
  for (const [key, column] of Object.entries(equal)) {
    const value = filter[key as keyof typeof equal];
    if (value !== undefined) {
      conditions.push(`${column} = @${key}`);
      parameters[key] = value;
    }
  }
  if (filter.since !== undefined) {
    conditions.push('received_at >= @since');
    parameters.since = filter.since;
  }
  if (filter.until !== undefined) {
    conditions.push('received_at < @until');
    parameters.until = filter.until;
  }
  return { clause: conditions.join(' AND '), parameters };
}

function toDelivery(row: DeliveryRow): Delivery {
  return {
    id: row.id,
    route: row.route,
    provider: row.provider,
    eventId: row.event_id ?? undefined,
    eventType: row.event_type ?? undefined,
    target: row.target,
    body: row.body,
    headers: JSON.parse(row.headers),
    receivedAt: row.received_at,
    orderKey: row.order_key ?? undefined,
    maxAgeMs: row.max_age_ms,
    status: row.status,
    attempts: row.attempts,
    retryStep: row.retry_step,
    nextAttemptAt: row.next_attempt_at,
    windowStart: row.window_start,
    updatedAt: row.updated_at,
    deliveredAt: row.delivered_at ?? undefined,
    lastStatus: row.last_status ?? undefined,
    lastError: row.last_error ?? undefined,
    deadReason: row.dead_reason ?? undefined,
  };
}

function toAttempt(row: AttemptRow): DeliveryAttempt {
  return {
    number: row.number,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
    statusCode: row.status_code ?? undefined,
    error: row.error ?? undefined,
    responseExcerpt: row.response_excerpt ?? undefined,
  };
}
