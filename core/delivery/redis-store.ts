import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { FastifyBaseLogger } from 'fastify';
import type { RedisLease } from '../stores/redis-connection.js';
import { DEFAULT_WORKER_HEARTBEAT_MS } from '../stores/redis-connection.js';
import { idempotencyKeys } from '../stores/redis-idempotency.js';
import {
  COMPLETE,
  ENQUEUE,
  HEARTBEAT,
  LEASE,
  PREPARE_CLAIM,
  PRUNE,
  RECOVER,
  RELEASE,
  REPLAY,
} from './redis-scripts.js';
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

/** Ids read per round trip when a listing or a replay by filter scans an index. */
const SCAN_BATCH = 200;
/** Targets with due deliveries considered by one claim. */
const MAX_CLAIM_TARGETS = 1_000;
/** Finished deliveries examined by one prune script, so that each call stays short. */
const PRUNE_BATCH = 500;
/** Heartbeats a worker may miss before its deliveries in flight are taken back. */
const MISSED_HEARTBEATS = 3;

/** Options of {@link RedisDeliveryStore}. */
export interface RedisDeliveryStoreOptions {
  /** Milliseconds between this store's heartbeats while its worker claims; default 5 s. */
  heartbeatMs?: number;
  /** Logger of failed heartbeats (once a minute at most) and of deliveries taken back. */
  log?: FastifyBaseLogger;
}

/** Fields of a delivery that filters read, in HMGET order. */
const FILTER_FIELDS = ['status', 'provider', 'target', 'route', 'received_at'] as const;

interface Scanned {
  id: string;
  seq: number;
  status: DeliveryStatus;
}

/**
 * The delivery queue in Redis, for several gateway instances that share one queue. Every state
 * change is one Lua script. That keeps a delivery claimed by one worker at a time, the
 * de-duplication key claimed in the same step as the enqueue, and one delivery of an ordering
 * key due at a time. Each store marks its worker alive with a heartbeat. The deliveries a
 * silent worker holds go back to the queue after three missed heartbeats, or when their lease
 * ends, whichever comes first.
 */
export class RedisDeliveryStore implements DeliveryStore {
  /** Name of this store's worker in Redis: host, process id and a random suffix. */
  readonly owner = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  private readonly prefix: string;
  private readonly idempotency;
  private readonly heartbeatMs: number;
  private heartbeatTimer?: NodeJS.Timeout;
  private heartbeatFailedAt = 0;
  /**
   * Ids whose complete or release failed, so Redis still has them in flight at this worker,
   * which no longer attempts them. The next claim returns them to the queue.
   */
  private readonly orphaned = new Set<string>();

  constructor(
    private readonly lease: RedisLease,
    private readonly options: RedisDeliveryStoreOptions = {},
  ) {
    this.prefix = `${lease.settings.keyPrefix}delivery:`;
    this.idempotency = idempotencyKeys(lease.settings.keyPrefix);
    this.heartbeatMs = options.heartbeatMs ?? DEFAULT_WORKER_HEARTBEAT_MS;
  }

  private get client() {
    return this.lease.client;
  }

  private key(id: string): string {
    return `${this.prefix}d:${id}`;
  }

  async enqueue(delivery: NewDelivery, dedupe?: DedupeClaim): Promise<EnqueueResult> {
    const now = delivery.receivedAt;
    const reply = (await ENQUEUE.run(
      this.client,
      [],
      [
        this.prefix,
        dedupe ? this.idempotency.key(dedupe.key) : '',
        this.idempotency.index,
        dedupe ? now + dedupe.ttlMs : 0,
        dedupe ? Math.max(1, Math.round(dedupe.ttlMs)) : 0,
        now,
        delivery.id,
        delivery.target,
        delivery.orderKey ?? '',
        delivery.provider,
        delivery.route,
        ...hashFields(delivery),
      ],
    )) as [string, string];
    if (reply[0] === 'duplicate') {
      return { status: 'duplicate', id: reply[1] || undefined };
    }
    return { status: 'queued', id: delivery.id };
  }

  async claim(request: ClaimRequest): Promise<Delivery[]> {
    this.startHeartbeat();
    await this.requeueOrphaned(request.now);
    const due = (await PREPARE_CLAIM.run(
      this.client,
      [],
      [this.prefix, request.now, this.owner, this.staleMs(), MAX_CLAIM_TARGETS],
    )) as (string | number)[];
    this.reportTakenBack(Number(due[0]), Number(due[1]));
    const rooms: (string | number)[] = [];
    let remaining = request.limit;
    for (let index = 2; index < due.length && remaining > 0; index += 2) {
      const target = String(due[index]);
      const room = Math.min(request.freeSlots(target), remaining, Number(due[index + 1]));
      if (room > 0) {
        rooms.push(target, room);
        remaining -= room;
      }
    }
    if (rooms.length === 0) {
      return [];
    }
    const ids = (await LEASE.run(
      this.client,
      [],
      [this.prefix, request.now, request.now + request.leaseMs, this.owner, ...rooms],
    )) as string[];
    return this.fetch(ids);
  }

  async complete(
    id: string,
    attempt: DeliveryAttempt,
    resolution: AttemptResolution,
  ): Promise<void> {
    await this.orphanOnFailure([id], () =>
      COMPLETE.run(
        this.client,
        [],
        [
          this.prefix,
          id,
          attempt.finishedAt,
          resolution.status,
          resolution.status === 'pending' ? resolution.nextAttemptAt : 0,
          resolution.status === 'dead' ? resolution.reason : '',
          attempt.statusCode ?? '',
          attempt.error ?? '',
          JSON.stringify(attempt),
        ],
      ),
    );
  }

  async release(ids: string[], now: number): Promise<void> {
    if (ids.length > 0) {
      await this.orphanOnFailure(ids, () =>
        RELEASE.run(this.client, [], [this.prefix, now, '', ...ids]),
      );
    }
  }

  /**
   * Returns to pending the deliveries this store's worker holds in flight, and those of workers
   * that missed three heartbeats. Deliveries of live workers stay in flight, since another
   * gateway instance may be attempting them. A worker that restarts before its old heartbeat
   * went stale gets its old deliveries back at a later claim, once it is. Every claim does the
   * same, so when Redis is unreachable at start-up this logs the failure and resolves 0, and the
   * gateway starts anyway.
   */
  async recover(now: number): Promise<number> {
    this.startHeartbeat();
    try {
      return Number(
        await RECOVER.run(this.client, [], [this.prefix, now, this.owner, this.staleMs()]),
      );
    } catch (error) {
      this.options.log?.warn(
        { err: error },
        'returning deliveries left in flight failed; claims retry it once Redis answers',
      );
      return 0;
    }
  }

  async nextDueAt(): Promise<number | undefined> {
    const [targets, leases] = await Promise.all([
      this.client.zrange(`${this.prefix}targets`, 0, 0, 'WITHSCORES'),
      this.client.zrange(`${this.prefix}leases`, 0, 0, 'WITHSCORES'),
    ]);
    const times = [targets[1], leases[1]].filter((value) => value !== undefined).map(Number);
    return times.length === 0 ? undefined : Math.min(...times);
  }

  async get(id: string): Promise<Delivery | undefined> {
    const [delivery] = await this.fetch([id]);
    return delivery;
  }

  async attempts(id: string): Promise<DeliveryAttempt[]> {
    const entries = await this.client.lrange(`${this.prefix}attempts:${id}`, 0, -1);
    return entries.map((entry) => JSON.parse(entry) as DeliveryAttempt);
  }

  async list(
    filter: DeliveryFilter,
    page: { limit: number; cursor?: string },
  ): Promise<DeliveryPage> {
    if (page.cursor !== undefined && !/^\d+$/.test(page.cursor)) {
      return { deliveries: [] };
    }
    const matched: Scanned[] = [];
    for await (const batch of this.scan(filter, page.cursor)) {
      matched.push(...batch);
      if (matched.length > page.limit) {
        break;
      }
    }
    const more = matched.length > page.limit;
    const shown = matched.slice(0, page.limit);
    return {
      deliveries: await this.fetch(shown.map((entry) => entry.id)),
      nextCursor: more ? String(shown[shown.length - 1].seq) : undefined,
    };
  }

  async replay(id: string, now: number): Promise<boolean> {
    return (await REPLAY.run(this.client, [], [this.prefix, id, now])) === 1;
  }

  /** Replays by filter one script per delivery, so the whole set is not one atomic step. */
  async replayMatching(filter: DeliveryFilter, now: number): Promise<number> {
    let replayed = 0;
    for await (const batch of this.scan(filter)) {
      const candidates = batch.filter((entry) => entry.status !== 'in_flight');
      const results = await Promise.all(
        candidates.map((entry) => REPLAY.run(this.client, [], [this.prefix, entry.id, now])),
      );
      replayed += results.filter((result) => result === 1).length;
    }
    return replayed;
  }

  async prune(before: number, statuses: DeliveryStatus[]): Promise<number> {
    const finished = statuses.filter((status) => status === 'delivered' || status === 'dead');
    if (finished.length === 0) {
      return 0;
    }
    let deleted = 0;
    let offset = 0;
    for (;;) {
      const [removed, skipped, examined] = (await PRUNE.run(
        this.client,
        [],
        [this.prefix, before, offset, PRUNE_BATCH, ...finished],
      )) as [number, number, number];
      deleted += removed;
      offset += skipped;
      if (examined < PRUNE_BATCH) {
        return deleted;
      }
    }
  }

  async counts(): Promise<Record<DeliveryStatus, number>> {
    const sizes = await Promise.all(
      DELIVERY_STATUSES.map((status) => this.client.zcard(`${this.prefix}status:${status}`)),
    );
    return Object.fromEntries(
      DELIVERY_STATUSES.map((status, index) => [status, sizes[index]]),
    ) as Record<DeliveryStatus, number>;
  }

  async close(): Promise<void> {
    clearInterval(this.heartbeatTimer);
    this.heartbeatTimer = undefined;
    await this.lease.release();
  }

  private async orphanOnFailure(ids: string[], run: () => Promise<unknown>): Promise<void> {
    try {
      await run();
    } catch (error) {
      for (const id of ids) {
        this.orphaned.add(id);
      }
      throw error;
    }
  }

  /** Returns deliveries whose complete or release failed to the queue, due at once. */
  private async requeueOrphaned(now: number): Promise<void> {
    if (this.orphaned.size === 0) {
      return;
    }
    const ids = [...this.orphaned];
    const requeued = await RELEASE.run(this.client, [], [this.prefix, now, this.owner, ...ids]);
    for (const id of ids) {
      this.orphaned.delete(id);
    }
    this.options.log?.warn(
      { deliveries: Number(requeued) },
      'returned deliveries whose attempt could not be recorded to the queue',
    );
  }

  private reportTakenBack(fromSilentWorkers: number, leaseEnded: number): void {
    if (fromSilentWorkers > 0) {
      this.options.log?.warn(
        { deliveries: fromSilentWorkers, owner: this.owner },
        'took back deliveries in flight at workers that stopped sending heartbeats',
      );
    }
    if (leaseEnded > 0) {
      this.options.log?.warn(
        { deliveries: leaseEnded, owner: this.owner },
        'returned deliveries whose lease ended to the queue',
      );
    }
  }

  private staleMs(): number {
    return this.heartbeatMs * MISSED_HEARTBEATS;
  }

  /** Starts the heartbeat on the first claim or recover, so a CLI reading the queue sends none. */
  private startHeartbeat(): void {
    if (this.heartbeatTimer) {
      return;
    }
    this.heartbeatTimer = setInterval(() => void this.beat(), this.heartbeatMs);
    this.heartbeatTimer.unref();
  }

  private async beat(): Promise<void> {
    try {
      await HEARTBEAT.run(this.client, [], [this.prefix, this.owner]);
    } catch (error) {
      const now = Date.now();
      if (now - this.heartbeatFailedAt >= 60_000) {
        this.heartbeatFailedAt = now;
        this.options.log?.warn(
          { err: error, owner: this.owner },
          'delivery worker heartbeat failed; other instances may take over its deliveries',
        );
      }
    }
  }

  /** Reads deliveries by id, in order, leaving out those that no longer exist. */
  private async fetch(ids: string[]): Promise<Delivery[]> {
    if (ids.length === 0) {
      return [];
    }
    const pipeline = this.client.pipeline();
    for (const id of ids) {
      pipeline.hgetallBuffer(this.key(id));
    }
    const replies = (await pipeline.exec()) ?? [];
    const deliveries: Delivery[] = [];
    for (const [error, hash] of replies) {
      if (error) {
        throw error;
      }
      const fields = hash as Record<string, Buffer>;
      if (fields.id !== undefined) {
        deliveries.push(toDelivery(fields));
      }
    }
    return deliveries;
  }

  /**
   * Yields the deliveries that match `filter`, newest first, in batches. It walks the smallest
   * index that the filter names (or every delivery) from `cursor` down, and checks the other
   * conditions on each hash, so a rare value of a second filter may read many ids.
   */
  private async *scan(filter: DeliveryFilter, cursor?: string): AsyncGenerator<Scanned[]> {
    const index = await this.chooseIndex(filter);
    let upper = cursor === undefined ? '+inf' : `(${cursor}`;
    for (;;) {
      const reply = await this.client.zrevrangebyscore(
        index,
        upper,
        '-inf',
        'WITHSCORES',
        'LIMIT',
        0,
        SCAN_BATCH,
      );
      if (reply.length === 0) {
        return;
      }
      const pipeline = this.client.pipeline();
      for (let position = 0; position < reply.length; position += 2) {
        pipeline.hmget(this.key(reply[position]), ...FILTER_FIELDS);
      }
      const rows = (await pipeline.exec()) ?? [];
      const batch: Scanned[] = [];
      rows.forEach(([error, values], row) => {
        if (error) {
          throw error;
        }
        const fields = values as (string | null)[];
        if (fields[0] !== null && matches(fields, filter)) {
          batch.push({
            id: reply[row * 2],
            seq: Number(reply[row * 2 + 1]),
            status: fields[0] as DeliveryStatus,
          });
        }
      });
      yield batch;
      upper = `(${reply[reply.length - 1]}`;
      if (reply.length < SCAN_BATCH * 2) {
        return;
      }
    }
  }

  private async chooseIndex(filter: DeliveryFilter): Promise<string> {
    const candidates: string[] = [];
    for (const name of ['status', 'provider', 'target', 'route'] as const) {
      const value = filter[name];
      if (value !== undefined) {
        candidates.push(`${this.prefix}${name}:${value}`);
      }
    }
    if (candidates.length === 0) {
      return `${this.prefix}all`;
    }
    const sizes = await Promise.all(candidates.map((key) => this.client.zcard(key)));
    return candidates[sizes.indexOf(Math.min(...sizes))];
  }
}

/** Returns the hash fields of a new delivery as field/value pairs, leaving out absent ones. */
function hashFields(delivery: NewDelivery): (string | number | Buffer)[] {
  const fields: Record<string, string | number | Buffer | undefined> = {
    id: delivery.id,
    route: delivery.route,
    provider: delivery.provider,
    event_id: delivery.eventId,
    event_type: delivery.eventType,
    target: delivery.target,
    body: delivery.body,
    headers: JSON.stringify(delivery.headers),
    received_at: delivery.receivedAt,
    order_key: delivery.orderKey,
    max_age_ms: delivery.maxAgeMs,
    status: 'pending',
    attempts: 0,
    retry_step: 0,
    next_attempt_at: delivery.receivedAt,
    window_start: delivery.receivedAt,
    updated_at: delivery.receivedAt,
  };
  return Object.entries(fields).flatMap(([name, value]) =>
    value === undefined ? [] : [name, value],
  );
}

function matches(fields: (string | null)[], filter: DeliveryFilter): boolean {
  const [status, provider, target, route, receivedAt] = fields;
  const received = Number(receivedAt);
  return (
    (filter.status === undefined || status === filter.status) &&
    (filter.provider === undefined || provider === filter.provider) &&
    (filter.target === undefined || target === filter.target) &&
    (filter.route === undefined || route === filter.route) &&
    (filter.since === undefined || received >= filter.since) &&
    (filter.until === undefined || received < filter.until)
  );
}

function toDelivery(hash: Record<string, Buffer>): Delivery {
  const text = (name: string) => hash[name]?.toString('utf8');
  const number = (name: string) => (hash[name] === undefined ? undefined : Number(text(name)));
  return {
    id: text('id') as string,
    route: text('route') as string,
    provider: text('provider') as string,
    eventId: text('event_id'),
    eventType: text('event_type'),
    target: text('target') as string,
    body: hash.body ?? Buffer.alloc(0),
    headers: JSON.parse(text('headers') ?? '{}'),
    receivedAt: number('received_at') as number,
    orderKey: text('order_key'),
    maxAgeMs: number('max_age_ms') as number,
    status: text('status') as DeliveryStatus,
    attempts: number('attempts') as number,
    retryStep: number('retry_step') as number,
    nextAttemptAt: number('next_attempt_at') as number,
    windowStart: number('window_start') as number,
    updatedAt: number('updated_at') as number,
    deliveredAt: number('delivered_at'),
    lastStatus: number('last_status'),
    lastError: text('last_error'),
    deadReason: text('dead_reason'),
  };
}
