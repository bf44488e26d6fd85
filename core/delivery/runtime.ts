import { randomUUID } from 'node:crypto';
import type { FastifyBaseLogger } from 'fastify';
import type { GatewayConfig, RouteConfig } from '../config/types.js';
import type { GatewayStats } from '../server/stats.js';
import { readStoresSection } from '../stores/redis-settings.js';
import { SqliteCursorStore } from '../stores/sqlite-cursors.js';
import { openSqliteDatabase } from '../stores/sqlite-database.js';
import { type RedisDeliveryBackend, redisDeliveryBackendFor } from './redis-backend.js';
import type { SourceLock } from './redis-sources.js';
import {
  type QueueRouteSettings,
  type QueueSettings,
  readQueueRouteSettings,
  readQueueSettings,
  readStorageSettings,
  type StorageSettings,
} from './settings.js';
import { SqliteDeliveryStore } from './sqlite-store.js';
import type { CursorStore, DeliveryStore } from './store.js';
import { DeliveryWorker, type RouteDeliverySettings } from './worker.js';

/** How often finished deliveries past `storage.retention` are deleted: hourly. */
const PRUNE_INTERVAL_MS = 3_600_000;

/** Options of {@link DeliveryRuntime}, for tests that inject a clock or a store. */
export interface DeliveryRuntimeOptions {
  store?: DeliveryStore;
  cursors?: CursorStore;
  now?: () => number;
  random?: () => number;
}

/** Creates a delivery id: `dlv_` and 32 hex digits. */
export function newDeliveryId(): string {
  return `dlv_${randomUUID().replaceAll('-', '')}`;
}

/**
 * The queued-delivery state of one gateway instance: the store, the cursor store, the worker and
 * the settings of every route that queues. Created on first use and shared by the queue mode,
 * the event sources and the admin API of that gateway.
 */
export class DeliveryRuntime {
  readonly store: DeliveryStore;
  readonly cursors: CursorStore;
  readonly worker: DeliveryWorker;
  readonly queue: QueueSettings;
  readonly storage: StorageSettings;
  readonly now: () => number;
  /** The lock of an event source, when several instances share the queue in Redis. */
  readonly sourceLock?: (name: string) => SourceLock;
  private readonly redis?: RedisDeliveryBackend;
  private readonly routes = new Map<string, QueueRouteSettings>();
  private pruneTimer?: NodeJS.Timeout;

  constructor(
    config: GatewayConfig,
    private readonly log: FastifyBaseLogger,
    stats?: GatewayStats,
    options: DeliveryRuntimeOptions = {},
  ) {
    this.queue = readQueueSettings(config);
    this.storage = readStorageSettings(config);
    this.now = options.now ?? Date.now;
    this.redis = redisDeliveryBackendFor(config, log);
    this.store = options.store ?? this.redis?.openStore() ?? this.openStore();
    this.cursors =
      options.cursors ??
      this.redis?.openCursors() ??
      new SqliteCursorStore(openSqliteDatabase(this.storage.file, this.storage.sqlite));
    const redis = this.redis;
    this.sourceLock = redis ? (name) => redis.sourceLock(name) : undefined;
    this.worker = new DeliveryWorker({
      store: this.store,
      log: log.child({ component: 'delivery-worker' }),
      settingsFor: (delivery) => this.settingsFor(delivery.route),
      concurrency: this.queue.concurrency,
      targetConcurrency: this.queue.targetConcurrency,
      pollIntervalMs: this.queue.pollIntervalMs,
      leaseMs: 2 * this.queue.timeoutMs + 30_000,
      now: this.now,
      random: options.random,
      onAttempt: (delivery, resolution) => {
        stats?.increment(
          `deliveries_${resolution.status === 'pending' ? 'retried' : resolution.status}`,
          delivery.route,
        );
      },
    });
    stats?.gauge('deliveries', () => this.store.counts());
  }

  /** Registers a route (or event source) that queues, and returns its settings. */
  addRoute(route: RouteConfig): QueueRouteSettings {
    const settings = readQueueRouteSettings(route.raw, this.queue);
    this.routes.set(route.path, settings);
    return settings;
  }

  /** Attempt settings of a route; a route no longer in the config gets the `queue:` defaults. */
  settingsFor(route: string): RouteDeliverySettings {
    const settings = this.routes.get(route) ?? readQueueRouteSettings({}, this.queue);
    return {
      retry: { scheduleMs: settings.retryScheduleMs, jitter: settings.retryJitter },
      timeoutMs: settings.timeoutMs,
      signingSecret: settings.signingSecret,
    };
  }

  /** Starts the worker and the hourly pruning of finished deliveries. */
  async start(): Promise<void> {
    await this.worker.start();
    const where = this.redis ? { redis: this.redis.redactedUrl } : { file: this.storage.file };
    this.log.info(where, 'delivery worker started');
    this.pruneTimer = setInterval(() => void this.prune(), PRUNE_INTERVAL_MS);
    this.pruneTimer.unref();
    await this.prune();
  }

  /** Stops the worker: no new attempts, in-flight ones finish or return to the queue. */
  async stop(graceMs: number): Promise<void> {
    clearInterval(this.pruneTimer);
    await this.worker.stop(graceMs);
    this.log.info('delivery worker stopped');
  }

  async close(): Promise<void> {
    await this.store.close();
    await this.cursors.close?.();
    await this.redis?.close();
  }

  private openStore(): DeliveryStore {
    return new SqliteDeliveryStore(openSqliteDatabase(this.storage.file, this.storage.sqlite));
  }

  private async prune(): Promise<void> {
    try {
      const pruned = await this.store.prune(this.now() - this.storage.retentionMs, [
        'delivered',
        'dead',
      ]);
      if (pruned > 0) {
        this.log.info({ pruned }, 'deleted finished deliveries past the retention');
      }
    } catch (error) {
      this.log.error({ err: error }, 'pruning finished deliveries failed');
    }
  }
}

const runtimes = new WeakMap<GatewayConfig, DeliveryRuntime>();

/**
 * Checks whether a config queues anything: a `storage:` section, a `stores.delivery` choice, a
 * queue route or an event source.
 */
export function deliveryEnabled(config: GatewayConfig): boolean {
  const sources = config.raw.sources as unknown[] | undefined;
  return (
    config.raw.storage !== undefined ||
    readStoresSection(config).delivery !== undefined ||
    (sources?.length ?? 0) > 0 ||
    config.routes.some((route) => route.raw.delivery === 'queue')
  );
}

/** Returns the delivery runtime of a gateway's config, creating it on first use. */
export function deliveryRuntimeFor(
  config: GatewayConfig,
  log: FastifyBaseLogger,
  stats?: GatewayStats,
  options?: DeliveryRuntimeOptions,
): DeliveryRuntime {
  let runtime = runtimes.get(config);
  if (!runtime) {
    runtime = new DeliveryRuntime(config, log, stats, options);
    runtimes.set(config, runtime);
  }
  return runtime;
}

/** Returns the delivery runtime of a config, if one was created. */
export function existingDeliveryRuntime(config: GatewayConfig): DeliveryRuntime | undefined {
  return runtimes.get(config);
}

/** Forgets the runtime of a config after it closed. */
export function forgetDeliveryRuntime(config: GatewayConfig): void {
  runtimes.delete(config);
}
