import { createHash } from 'node:crypto';
import { Queue, Worker } from 'bullmq';
import type { FastifyBaseLogger } from 'fastify';
import type { Redis } from 'ioredis';
import { ThrottledLog } from '../throttled-log.js';

/** Target and ordering key of the deliveries in one BullMQ queue. */
export interface QueueRoute {
  target: string;
  /** Ordering key shared by every delivery of the queue, for routes with `order: arrival`. */
  orderKey?: string;
}

/** Options of {@link BullmqQueues}. */
export interface BullmqQueuesOptions {
  /** Shared client for queue commands: fails fast while Redis is unreachable. */
  client: Redis;
  /** Opens the client that workers duplicate; BullMQ requires `maxRetriesPerRequest: null`. */
  openWorkerClient(): Redis;
  /** BullMQ key prefix, without a trailing colon. */
  prefix: string;
  /** Key of the hash that maps each queue name to its {@link QueueRoute}. */
  registryKey: string;
  /** Milliseconds a worker's lock on a job lives unless renewed. */
  lockMs: number;
  /** Milliseconds between two looks for jobs whose lock expired. */
  stalledIntervalMs: number;
  log: FastifyBaseLogger;
}

/** One BullMQ queue of deliveries, with the worker that takes jobs from it by hand. */
export interface QueueHandle {
  name: string;
  route: QueueRoute;
  queue: Queue;
  /** Created on first use, since each worker opens two Redis connections. */
  worker(): Worker;
}

/**
 * Times BullMQ may find a job stalled before it fails the job. A delivery is never given up
 * because a gateway died while holding it, so the count is set out of reach.
 */
const MAX_STALLED_COUNT = 1_000_000;

/**
 * Names the queue of a target and ordering key: `t-` and 24 hex digits of a SHA-256, since a
 * target URL contains characters (`:`) that BullMQ does not allow in queue names.
 */
export function queueNameFor(route: QueueRoute): string {
  const digest = createHash('sha256')
    .update(JSON.stringify([route.target, route.orderKey ?? null]))
    .digest('hex');
  return `t-${digest.slice(0, 24)}`;
}

/**
 * The BullMQ queues of the delivery store: one per target, and one per ordering key, so a target
 * that is down holds back only its own jobs. Every instance learns the queues from a registry
 * hash in Redis, because a job may be enqueued by another instance.
 */
export class BullmqQueues {
  private readonly handles = new Map<string, QueueHandle>();
  private readonly workers: Worker[] = [];
  private readonly checked = new Set<Worker>();
  private workerClient?: Redis;
  private checkingStalled = false;
  private readonly warning: ThrottledLog;

  constructor(private readonly options: BullmqQueuesOptions) {
    this.warning = new ThrottledLog(options.log);
  }

  /**
   * Returns the queue of `route`. The caller records it in the registry with each enqueue, so a
   * registry lost with Redis's data is written again by the next event.
   */
  forRoute(route: QueueRoute): QueueHandle {
    return this.handle(queueNameFor(route), route);
  }

  /** Returns the queue called `name`, or undefined when no instance registered it. */
  async byName(name: string): Promise<QueueHandle | undefined> {
    const known = this.handles.get(name);
    if (known) {
      return known;
    }
    const json = await this.options.client.hget(this.options.registryKey, name);
    return json === null ? undefined : this.handle(name, JSON.parse(json) as QueueRoute);
  }

  /** Returns every registered queue, reading the registry again. */
  async all(): Promise<QueueHandle[]> {
    const registry = await this.options.client.hgetall(this.options.registryKey);
    return Object.entries(registry).map(([name, json]) =>
      this.handle(name, JSON.parse(json) as QueueRoute),
    );
  }

  /**
   * Starts BullMQ's check for stalled jobs on every worker, present and future: a job whose
   * lock expired because its gateway died goes back to the front of its queue.
   */
  async checkStalled(): Promise<void> {
    this.checkingStalled = true;
    for (const handle of await this.all()) {
      this.startStalledCheck(handle.worker());
    }
  }

  async close(): Promise<void> {
    for (const worker of this.workers) {
      await worker.close(true);
    }
    for (const handle of this.handles.values()) {
      await handle.queue.close();
    }
    this.workerClient?.disconnect();
  }

  private handle(name: string, route: QueueRoute): QueueHandle {
    let handle = this.handles.get(name);
    if (!handle) {
      const queue = new Queue(name, {
        connection: this.options.client,
        prefix: this.options.prefix,
      });
      queue.on('error', (error) =>
        this.warning.warn('queue', { err: error, queue: name }, 'bullmq queue failed'),
      );
      let worker: Worker | undefined;
      handle = { name, route, queue, worker: () => (worker ??= this.startWorker(name)) };
      this.handles.set(name, handle);
      if (this.checkingStalled) {
        this.startStalledCheck(handle.worker());
      }
    }
    return handle;
  }

  private startStalledCheck(worker: Worker): void {
    if (!this.checked.has(worker)) {
      this.checked.add(worker);
      // A rejection here would otherwise be unhandled, which ends a Node process.
      worker
        .startStalledCheckTimer()
        .catch((error) =>
          this.warning.warn('stalled', { err: error }, 'starting the stalled-job check failed'),
        );
    }
  }

  private startWorker(name: string): Worker {
    this.workerClient ??= this.options.openWorkerClient();
    const worker = new Worker(name, null, {
      connection: this.workerClient,
      prefix: this.options.prefix,
      autorun: false,
      lockDuration: this.options.lockMs,
      stalledInterval: this.options.stalledIntervalMs,
      maxStalledCount: MAX_STALLED_COUNT,
    });
    worker.on('error', (error) =>
      this.warning.warn('worker', { err: error, queue: name }, 'bullmq worker failed'),
    );
    worker.on('stalled', (jobId) =>
      this.options.log.warn(
        { delivery: jobId, queue: name },
        'took back a delivery whose worker stopped renewing its lock',
      ),
    );
    this.workers.push(worker);
    return worker;
  }
}
