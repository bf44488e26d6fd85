import { randomUUID } from 'node:crypto';
import { Job } from 'bullmq';
import type { FastifyBaseLogger } from 'fastify';
import type { Redis } from 'ioredis';
import {
  createRedisClient,
  DEFAULT_WORKER_HEARTBEAT_MS,
  type RedisLease,
  RedisScript,
} from '../stores/redis-connection.js';
import { ThrottledLog } from '../throttled-log.js';
import { BullmqQueues, type QueueHandle } from './bullmq-queues.js';
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

/** Ids read per round trip when a listing, replay or prune walks the index. */
const SCAN_BATCH = 200;
/** Heartbeats a worker may miss before BullMQ takes back the jobs it holds. */
const MISSED_HEARTBEATS = 3;
/** BullMQ scores delayed jobs as `timestamp * 4096 + counter` (bullmq 6.7, addDelayedJob). */
const DELAY_SCORE_FACTOR = 0x1000;
/** Milliseconds after which an index entry without a job is taken as a failed enqueue. */
const ORPHAN_ENTRY_MS = 60_000;

/** Job data: the delivery with its state, the body as base64 since BullMQ stores JSON. */
interface DeliveryData extends Omit<Delivery, 'id' | 'status' | 'body'> {
  body: string;
}

/** A job this store's worker holds, with the lock token BullMQ gave it. */
interface HeldJob {
  job: Job<DeliveryData>;
  token: string;
  handle: QueueHandle;
}

/** Options of {@link BullmqDeliveryStore}. */
export interface BullmqDeliveryStoreOptions {
  /** Milliseconds between renewals of the locks this worker holds; default 5 s. */
  heartbeatMs?: number;
  log: FastifyBaseLogger;
}

/**
 * Adds an id to the listing index, numbered in enqueue order, notes its queue, and records the
 * queue in the registry that every instance's worker reads.
 */
const INDEX = new RedisScript(
  'pactownBullmqIndex',
  `local seq = redis.call('INCR', KEYS[1])
redis.call('ZADD', KEYS[2], seq, ARGV[1])
redis.call('HSET', KEYS[3], ARGV[1], ARGV[2])
redis.call('HSET', KEYS[4], ARGV[3], ARGV[4])
return seq`,
);

/**
 * The delivery queue on BullMQ. Each target (and each ordering key) has a queue of its own, so a
 * target that is down holds back only its own jobs, and an ordering key's queue has a global
 * concurrency of one. The delivery worker takes jobs by hand (`Worker.getNextJob`), so it keeps
 * its per-target slots. A failed attempt moves the job to BullMQ's delayed set until its retry,
 * a dead letter is a failed job, a replay is `Job.retry` or `Job.promote`, attempts are job
 * logs, and de-duplication is BullMQ's `deduplication` option. A sorted set of ids in enqueue
 * order serves listings newest first.
 *
 * BullMQ reads the wall clock for due times and locks, so the `now` passed to this store only
 * sets the delivery's own fields (`windowStart`, `updatedAt`).
 */
export class BullmqDeliveryStore implements DeliveryStore {
  private readonly queues: BullmqQueues;
  private readonly held = new Map<string, HeldJob>();
  private readonly keys: {
    seq: string;
    index: string;
    where: string;
    queues: string;
    hold: string;
  };
  private readonly heartbeatMs: number;
  private readonly warning: ThrottledLog;
  private heartbeatTimer?: NodeJS.Timeout;
  private nextQueue = 0;

  constructor(
    private readonly lease: RedisLease,
    private readonly options: BullmqDeliveryStoreOptions,
  ) {
    const base = `${lease.settings.keyPrefix}bullmq`;
    this.keys = {
      seq: `${base}:seq`,
      index: `${base}:index`,
      where: `${base}:where`,
      queues: `${base}:queues`,
      hold: `${base}:hold:`,
    };
    this.heartbeatMs = options.heartbeatMs ?? DEFAULT_WORKER_HEARTBEAT_MS;
    this.warning = new ThrottledLog(options.log);
    this.queues = new BullmqQueues({
      client: lease.client,
      openWorkerClient: () => this.openWorkerClient(),
      prefix: base,
      registryKey: this.keys.queues,
      lockMs: MISSED_HEARTBEATS * this.heartbeatMs,
      stalledIntervalMs: this.heartbeatMs,
      log: options.log,
    });
  }

  private get client(): Redis {
    return this.lease.client;
  }

  async enqueue(delivery: NewDelivery, dedupe?: DedupeClaim): Promise<EnqueueResult> {
    const handle = this.queues.forRoute({ target: delivery.target, orderKey: delivery.orderKey });
    // The index entry comes first: an enqueue that fails after it leaves an entry without a
    // job, which listings skip and pruning deletes, never a job that no listing shows.
    await INDEX.run(
      this.client,
      [this.keys.seq, this.keys.index, this.keys.where, this.keys.queues],
      [delivery.id, `${handle.name} ${Date.now()}`, handle.name, JSON.stringify(handle.route)],
    );
    if (handle.route.orderKey !== undefined) {
      // One job in flight across every instance keeps the ordering key's deliveries in order.
      // It is set with each enqueue, so it survives a loss of Redis's data like the registry.
      await handle.queue.setGlobalConcurrency(1);
    }
    const job = await handle.queue.add('delivery', newJobData(delivery), {
      jobId: delivery.id,
      deduplication: dedupe
        ? { id: dedupe.key, ttl: Math.max(1, Math.round(dedupe.ttlMs)) }
        : undefined,
      removeOnComplete: false,
      removeOnFail: false,
    });
    if (job.id !== delivery.id) {
      await this.client
        .multi()
        .zrem(this.keys.index, delivery.id)
        .hdel(this.keys.where, delivery.id)
        .exec();
      return { status: 'duplicate', id: job.id };
    }
    return { status: 'queued', id: delivery.id };
  }

  async claim(request: ClaimRequest): Promise<Delivery[]> {
    this.startHeartbeat();
    const handles = rotate(await this.queues.all(), this.nextQueue++);
    const claimed: Delivery[] = [];
    const takenPerTarget = new Map<string, number>();
    for (const handle of handles) {
      const target = handle.route.target;
      let room = Math.min(
        request.freeSlots(target) - (takenPerTarget.get(target) ?? 0),
        request.limit - claimed.length,
      );
      if (handle.route.orderKey !== undefined && room > 0) {
        room = (await this.isHeld(handle)) ? 0 : 1;
      }
      for (; room > 0; room--) {
        const delivery = await this.takeNext(handle);
        if (!delivery) {
          break;
        }
        claimed.push(delivery);
        takenPerTarget.set(target, (takenPerTarget.get(target) ?? 0) + 1);
      }
      if (claimed.length >= request.limit) {
        break;
      }
    }
    return claimed;
  }

  async complete(
    id: string,
    attempt: DeliveryAttempt,
    resolution: AttemptResolution,
  ): Promise<void> {
    const held = this.held.get(id);
    if (!held) {
      throw new Error(`delivery ${id} is not in flight at this worker`);
    }
    // NOTE: the attempt log, the job data and the move are three BullMQ calls, not one atomic
    // step. A failure between them leaves the job active with a lock that is no longer renewed,
    // so BullMQ takes it back once the lock expires and the attempt is made again.
    this.held.delete(id);
    const { job, token, handle } = held;
    const data: DeliveryData = {
      ...job.data,
      attempts: job.data.attempts + 1,
      updatedAt: attempt.finishedAt,
      lastStatus: attempt.statusCode,
      lastError: attempt.error,
    };
    await job.log(JSON.stringify(attempt));
    if (resolution.status === 'delivered') {
      await job.updateData({ ...data, deliveredAt: attempt.finishedAt });
      await job.moveToCompleted('delivered', token, false);
    } else if (resolution.status === 'dead') {
      await job.updateData({ ...data, deadReason: resolution.reason });
      await job.moveToFailed(new Error(resolution.reason), token, false);
    } else {
      const next = resolution.nextAttemptAt;
      await job.updateData({ ...data, retryStep: data.retryStep + 1, nextAttemptAt: next });
      await this.postpone(handle, job, token, next);
    }
  }

  async release(ids: string[], _now: number): Promise<void> {
    for (const id of ids) {
      const held = this.held.get(id);
      if (held) {
        this.held.delete(id);
        await held.job.moveToWait(held.token);
      }
    }
  }

  /**
   * Starts BullMQ's stalled-job check, which returns the jobs of a gateway that died to their
   * queues once their locks expire. Nothing is returned at once, since other instances may be
   * attempting their jobs, so the count is always 0.
   */
  async recover(_now: number): Promise<number> {
    try {
      await this.queues.checkStalled();
    } catch (error) {
      // Each queue gets the check when a claim first reads it, once Redis responds again.
      this.options.log.warn(
        { err: error },
        'starting the stalled-job check failed; claims start it once Redis answers',
      );
    }
    return 0;
  }

  async nextDueAt(): Promise<number | undefined> {
    let earliest: number | undefined;
    for (const handle of await this.queues.all()) {
      const due = await this.dueAt(handle);
      if (due !== undefined && (earliest === undefined || due < earliest)) {
        earliest = due;
      }
    }
    return earliest;
  }

  async get(id: string): Promise<Delivery | undefined> {
    const found = await this.load(id);
    return found ? toDelivery(found.job, found.status) : undefined;
  }

  async attempts(id: string): Promise<DeliveryAttempt[]> {
    const found = await this.load(id);
    if (!found) {
      return [];
    }
    const { logs } = await found.handle.queue.getJobLogs(id, 0, -1, true);
    return logs.map((line) => JSON.parse(line) as DeliveryAttempt);
  }

  async list(
    filter: DeliveryFilter,
    page: { limit: number; cursor?: string },
  ): Promise<DeliveryPage> {
    const deliveries: Delivery[] = [];
    let nextCursor: string | undefined;
    for await (const batch of this.scan(filter, page.cursor)) {
      for (const found of batch) {
        if (deliveries.length === page.limit) {
          return { deliveries, nextCursor };
        }
        deliveries.push(toDelivery(found.job, found.status));
        nextCursor = String(found.seq);
      }
    }
    return { deliveries };
  }

  async replay(id: string, now: number): Promise<boolean> {
    const found = await this.load(id);
    return found ? this.replayFound(found, now) : false;
  }

  async replayMatching(filter: DeliveryFilter, now: number): Promise<number> {
    let replayed = 0;
    for await (const batch of this.scan(filter)) {
      for (const found of batch) {
        if (await this.replayFound(found, now)) {
          replayed += 1;
        }
      }
    }
    return replayed;
  }

  async prune(before: number, statuses: DeliveryStatus[]): Promise<number> {
    let pruned = 0;
    let lower = '-inf';
    for (;;) {
      const reply = await this.client.zrangebyscore(
        this.keys.index,
        lower,
        '+inf',
        'WITHSCORES',
        'LIMIT',
        0,
        SCAN_BATCH,
      );
      if (reply.length === 0) {
        return pruned;
      }
      const ids = reply.filter((_, position) => position % 2 === 0);
      for (const entry of await this.loadMany(ids)) {
        if (await this.pruneEntry(entry, before, statuses)) {
          pruned += 1;
        }
      }
      lower = `(${reply[reply.length - 1]}`;
    }
  }

  async counts(): Promise<Record<DeliveryStatus, number>> {
    const counts = Object.fromEntries(DELIVERY_STATUSES.map((status) => [status, 0])) as Record<
      DeliveryStatus,
      number
    >;
    for (const handle of await this.queues.all()) {
      const jobs = await handle.queue.getJobCounts(
        'waiting',
        'prioritized',
        'delayed',
        'active',
        'completed',
        'failed',
      );
      counts.pending += jobs.waiting + jobs.prioritized + jobs.delayed;
      counts.in_flight += jobs.active;
      counts.delivered += jobs.completed;
      counts.dead += jobs.failed;
    }
    return counts;
  }

  async close(): Promise<void> {
    clearInterval(this.heartbeatTimer);
    this.heartbeatTimer = undefined;
    await this.queues.close();
    await this.lease.release();
  }

  private openWorkerClient(): Redis {
    // BullMQ's workers require `maxRetriesPerRequest: null`; the offline queue still turns off
    // after the first connection, so a command sent during an outage fails at once.
    return createRedisClient(this.lease.settings, this.options.log, {
      maxRetriesPerRequest: null,
    });
  }

  /** Takes the next job of a queue, or undefined when none is due. */
  private async takeNext(handle: QueueHandle): Promise<Delivery | undefined> {
    const token = randomUUID();
    const job = (await handle.worker().getNextJob(token, { block: false })) as
      | Job<DeliveryData>
      | undefined;
    if (!job?.id) {
      return undefined;
    }
    if (handle.route.orderKey !== undefined && job.data.nextAttemptAt > Date.now()) {
      // Another instance put the head back for its retry after this one read the hold key.
      // The head goes back in front, and the queue waits until the retry is due.
      await this.hold(handle, job.data.nextAttemptAt);
      await job.moveToWait(token);
      return undefined;
    }
    this.held.set(job.id, { job, token, handle });
    return toDelivery(job, 'in_flight');
  }

  /**
   * Schedules the retry of a failed attempt. An unordered job waits in the delayed set. An
   * ordered one goes back to the front of its queue, and a hold key keeps every instance from
   * taking it, or anything queued behind it, before the retry is due.
   */
  private async postpone(
    handle: QueueHandle,
    job: Job<DeliveryData>,
    token: string,
    next: number,
  ): Promise<void> {
    if (handle.route.orderKey === undefined) {
      await job.moveToDelayed(next, token);
      return;
    }
    await this.hold(handle, next);
    await job.moveToWait(token);
  }

  private async hold(handle: QueueHandle, until: number): Promise<void> {
    const ms = Math.max(1, until - Date.now());
    await this.client.set(this.keys.hold + handle.name, String(until), 'PX', ms);
  }

  private async isHeld(handle: QueueHandle): Promise<boolean> {
    return (await this.client.exists(this.keys.hold + handle.name)) === 1;
  }

  /** Returns when a queue next has a job to take, leaving out a held or busy ordered queue. */
  private async dueAt(handle: QueueHandle): Promise<number | undefined> {
    const keys = handle.queue.keys;
    const [waiting, active, delayed, hold] = (await this.client
      .multi()
      .llen(keys.wait)
      .llen(keys.active)
      .zrange(keys.delayed, 0, 0, 'WITHSCORES')
      .get(this.keys.hold + handle.name)
      .exec()) as [Error | null, unknown][];
    let due: number | undefined;
    if (Number(waiting[1]) > 0) {
      const ordered = handle.route.orderKey !== undefined;
      if (!ordered || Number(active[1]) === 0) {
        due = hold[1] === null ? Date.now() : Number(hold[1]);
      }
    }
    const first = delayed[1] as string[];
    if (first.length === 2) {
      const delayedDue = Math.floor(Number(first[1]) / DELAY_SCORE_FACTOR);
      due = due === undefined ? delayedDue : Math.min(due, delayedDue);
    }
    return due;
  }

  private async replayFound(found: Found, now: number): Promise<boolean> {
    const { job, status, handle } = found;
    if (status === 'in_flight') {
      return false;
    }
    await job.updateData({
      ...job.data,
      retryStep: 0,
      nextAttemptAt: now,
      windowStart: now,
      updatedAt: now,
      deadReason: undefined,
      deliveredAt: undefined,
    });
    const state = found.state;
    if (state === 'failed' || state === 'completed') {
      await job.retry(state);
    } else if (state === 'delayed') {
      await job.promote();
    }
    if (handle.route.orderKey !== undefined) {
      await this.client.del(this.keys.hold + handle.name);
    }
    return true;
  }

  private async pruneEntry(
    entry: IndexEntry,
    before: number,
    statuses: DeliveryStatus[],
  ): Promise<boolean> {
    if (!entry.found) {
      if (Date.now() - entry.indexedAt > ORPHAN_ENTRY_MS) {
        await this.unindex(entry.id);
      }
      return false;
    }
    const { job, status } = entry.found;
    if (!statuses.includes(status) || job.data.updatedAt >= before) {
      return false;
    }
    await job.remove();
    await this.unindex(entry.id);
    return true;
  }

  private async unindex(id: string): Promise<void> {
    await this.client.multi().zrem(this.keys.index, id).hdel(this.keys.where, id).exec();
  }

  private async load(id: string): Promise<Found | undefined> {
    const [entry] = await this.loadMany([id]);
    return entry?.found;
  }

  /** Reads the jobs of index ids with their states; an id whose job is gone has no `found`. */
  private async loadMany(ids: string[]): Promise<IndexEntry[]> {
    if (ids.length === 0) {
      return [];
    }
    const places = await this.client.hmget(this.keys.where, ...ids);
    return Promise.all(
      ids.map(async (id, position) => {
        const place = places[position];
        if (place === null) {
          return { id, indexedAt: 0 };
        }
        const [queueName, indexedAt] = place.split(' ');
        const handle = await this.queues.byName(queueName);
        const job = handle && ((await Job.fromId(handle.queue, id)) as Job<DeliveryData>);
        if (!handle || !job) {
          return { id, indexedAt: Number(indexedAt) };
        }
        const state = await job.getState();
        const status = STATUS_OF_STATE[state];
        return status
          ? { id, indexedAt: Number(indexedAt), found: { job, state, status, handle } }
          : { id, indexedAt: Number(indexedAt) };
      }),
    );
  }

  /**
   * Yields the deliveries that match `filter`, newest first, in batches, from below `cursor`.
   * A status or target filter reads its candidates from BullMQ's state lists of the matching
   * queues. Otherwise the whole index is walked. Every filter is checked on each job either way.
   */
  private async *scan(filter: DeliveryFilter, cursor?: string): AsyncGenerator<Scanned[]> {
    if (filter.status !== undefined || filter.target !== undefined) {
      yield* this.scanCandidates(filter, cursor);
      return;
    }
    // NOTE: without a status or target filter the whole index is walked and each job read, so
    // a rare provider or route may read every delivery still kept.
    let upper = cursor === undefined ? '+inf' : `(${cursor}`;
    for (;;) {
      const reply = await this.client.zrevrangebyscore(
        this.keys.index,
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
      const rows: IndexRow[] = [];
      for (let position = 0; position < reply.length; position += 2) {
        rows.push({ id: reply[position], seq: Number(reply[position + 1]) });
      }
      yield await this.matching(rows, filter);
      upper = `(${reply[reply.length - 1]}`;
    }
  }

  private async *scanCandidates(
    filter: DeliveryFilter,
    cursor?: string,
  ): AsyncGenerator<Scanned[]> {
    const ids = await this.candidateIds(filter);
    const rows: IndexRow[] = [];
    for (let start = 0; start < ids.length; start += SCAN_BATCH) {
      const chunk = ids.slice(start, start + SCAN_BATCH);
      const seqs = await this.client.zmscore(this.keys.index, ...chunk);
      chunk.forEach((id, position) => {
        const seq = seqs[position];
        if (seq !== null && (cursor === undefined || Number(seq) < Number(cursor))) {
          rows.push({ id, seq: Number(seq) });
        }
      });
    }
    rows.sort((left, right) => right.seq - left.seq);
    for (let start = 0; start < rows.length; start += SCAN_BATCH) {
      yield await this.matching(rows.slice(start, start + SCAN_BATCH), filter);
    }
  }

  /** Returns the ids in the BullMQ state lists that a status and target filter allow. */
  private async candidateIds(filter: DeliveryFilter): Promise<string[]> {
    const states = filter.status === undefined ? ALL_STATES : STATES_OF_STATUS[filter.status];
    const handles = (await this.queues.all()).filter(
      (handle) => filter.target === undefined || handle.route.target === filter.target,
    );
    const pipeline = this.client.pipeline();
    for (const handle of handles) {
      const keys = handle.queue.keys as Record<string, string>;
      for (const state of states) {
        if (state === 'wait' || state === 'active' || state === 'paused') {
          pipeline.lrange(keys[state], 0, -1);
        } else {
          pipeline.zrange(keys[state], 0, -1);
        }
      }
    }
    const replies = (await pipeline.exec()) ?? [];
    const ids = new Set<string>();
    for (const [error, members] of replies) {
      if (error) {
        throw error;
      }
      for (const id of members as string[]) {
        ids.add(id);
      }
    }
    return [...ids];
  }

  /** Loads the jobs of index rows and keeps those that match `filter`, in the rows' order. */
  private async matching(rows: IndexRow[], filter: DeliveryFilter): Promise<Scanned[]> {
    const entries = await this.loadMany(rows.map((row) => row.id));
    const batch: Scanned[] = [];
    entries.forEach((entry, position) => {
      if (entry.found && matches(entry.found, filter)) {
        batch.push({ ...entry.found, seq: rows[position].seq });
      }
    });
    return batch;
  }

  private startHeartbeat(): void {
    if (this.heartbeatTimer) {
      return;
    }
    this.heartbeatTimer = setInterval(() => void this.renewLocks(), this.heartbeatMs);
    this.heartbeatTimer.unref();
  }

  /** Extends the locks of every job this worker holds, so BullMQ does not take them back. */
  private async renewLocks(): Promise<void> {
    const byQueue = new Map<QueueHandle, HeldJob[]>();
    for (const held of this.held.values()) {
      byQueue.set(held.handle, [...(byQueue.get(held.handle) ?? []), held]);
    }
    for (const [handle, jobs] of byQueue) {
      try {
        await handle.worker().extendJobLocks(
          jobs.map((held) => held.job.id as string),
          jobs.map((held) => held.token),
          MISSED_HEARTBEATS * this.heartbeatMs,
        );
      } catch (error) {
        this.warning.warn(
          'locks',
          { err: error, queue: handle.name },
          'renewing delivery locks failed',
        );
      }
    }
  }
}

/** A delivery's job with its BullMQ state. */
interface Found {
  job: Job<DeliveryData>;
  state: string;
  status: DeliveryStatus;
  handle: QueueHandle;
}

interface IndexRow {
  id: string;
  /** Position in enqueue order, the score in the listing index. */
  seq: number;
}

type Scanned = Found & { seq: number };

/** BullMQ's lists and sorted sets of jobs (bullmq 6.7 key names), by the status they hold. */
const STATES_OF_STATUS: Record<DeliveryStatus, string[]> = {
  pending: ['wait', 'paused', 'prioritized', 'delayed'],
  in_flight: ['active'],
  delivered: ['completed'],
  dead: ['failed'],
};

const ALL_STATES = Object.values(STATES_OF_STATUS).flat();

interface IndexEntry {
  id: string;
  /** Milliseconds since the epoch when the id was indexed; 0 when unknown. */
  indexedAt: number;
  found?: Found;
}

const STATUS_OF_STATE: Record<string, DeliveryStatus | undefined> = {
  waiting: 'pending',
  prioritized: 'pending',
  delayed: 'pending',
  paused: 'pending',
  'waiting-children': 'pending',
  active: 'in_flight',
  completed: 'delivered',
  failed: 'dead',
};

function newJobData(delivery: NewDelivery): DeliveryData {
  return {
    route: delivery.route,
    provider: delivery.provider,
    eventId: delivery.eventId,
    eventType: delivery.eventType,
    target: delivery.target,
    body: delivery.body.toString('base64'),
    headers: delivery.headers,
    receivedAt: delivery.receivedAt,
    orderKey: delivery.orderKey,
    maxAgeMs: delivery.maxAgeMs,
    attempts: 0,
    retryStep: 0,
    nextAttemptAt: delivery.receivedAt,
    windowStart: delivery.receivedAt,
    updatedAt: delivery.receivedAt,
  };
}

function toDelivery(job: Job<DeliveryData>, status: DeliveryStatus): Delivery {
  const { body, ...rest } = job.data;
  return { ...rest, id: job.id as string, status, body: Buffer.from(body, 'base64') };
}

function matches(found: Found, filter: DeliveryFilter): boolean {
  const data = found.job.data;
  return (
    (filter.status === undefined || found.status === filter.status) &&
    (filter.provider === undefined || data.provider === filter.provider) &&
    (filter.target === undefined || data.target === filter.target) &&
    (filter.route === undefined || data.route === filter.route) &&
    (filter.since === undefined || data.receivedAt >= filter.since) &&
    (filter.until === undefined || data.receivedAt < filter.until)
  );
}

/** Returns `items` starting at `start` (modulo its length), so each claim begins elsewhere. */
function rotate<T>(items: T[], start: number): T[] {
  if (items.length === 0) {
    return items;
  }
  const offset = start % items.length;
  return [...items.slice(offset), ...items.slice(0, offset)];
}
