import type { FastifyBaseLogger } from 'fastify';
import type { GatewayConfig } from '../config/types.js';
import {
  acquireRedis,
  type RedisLease,
  type RedisSettings,
  redactRedisUrl,
} from '../stores/redis-connection.js';
import { RedisCursorStore } from '../stores/redis-cursors.js';
import { RedisLock } from '../stores/redis-lock.js';
import { BULLMQ, deliveryBackend, REDIS, readRedisSettings } from '../stores/redis-settings.js';
import { BullmqDeliveryStore } from './bullmq-store.js';
import type { SourceLock } from './redis-sources.js';
import { RedisDeliveryStore } from './redis-store.js';
import type { DeliveryStore } from './store.js';

/**
 * The Redis parts of queued delivery for one gateway instance: the delivery store, the cursor
 * store and the locks that let one instance at a time poll each event source.
 */
export class RedisDeliveryBackend {
  private lockLease?: RedisLease;

  constructor(
    readonly settings: RedisSettings,
    private readonly log: FastifyBaseLogger,
    /** The queue engine: Lua scripts of this project (`redis`) or BullMQ (`bullmq`). */
    readonly engine: typeof REDIS | typeof BULLMQ = REDIS,
  ) {}

  /** The URL with its password hidden, for log lines. */
  get redactedUrl(): string {
    return redactRedisUrl(this.settings.url);
  }

  openStore(): DeliveryStore {
    const options = { heartbeatMs: this.settings.workerHeartbeatMs, log: this.log };
    const lease = acquireRedis(this.settings, this.log);
    return this.engine === BULLMQ
      ? new BullmqDeliveryStore(lease, options)
      : new RedisDeliveryStore(lease, options);
  }

  openCursors(): RedisCursorStore {
    return new RedisCursorStore(acquireRedis(this.settings, this.log));
  }

  /** Creates the lock of the event source `name`, shared by every instance with the same prefix. */
  sourceLock(name: string): SourceLock {
    this.lockLease ??= acquireRedis(this.settings, this.log);
    return new RedisLock(
      this.lockLease.client,
      `${this.settings.keyPrefix}lock:source:${name}`,
      this.settings.sourceLockTtlMs,
    );
  }

  async close(): Promise<void> {
    await this.lockLease?.release();
    this.lockLease = undefined;
  }
}

/** Returns the Redis backend when the config keeps its delivery queue in Redis or BullMQ. */
export function redisDeliveryBackendFor(
  config: GatewayConfig,
  log: FastifyBaseLogger,
): RedisDeliveryBackend | undefined {
  const backend = deliveryBackend(config);
  if (backend !== REDIS && backend !== BULLMQ) {
    return undefined;
  }
  const settings = readRedisSettings(config);
  if (!settings) {
    throw new Error(`stores.delivery is ${backend} but stores.redis.url is not set; add the URL`);
  }
  return new RedisDeliveryBackend(settings, log, backend);
}

/**
 * Opens the Redis or BullMQ delivery store of a config for the `pactown deliveries` commands, or
 * returns undefined when the config keeps its queue in SQLite.
 */
export function openRedisDeliveryStore(
  config: GatewayConfig,
  log: FastifyBaseLogger,
): DeliveryStore | undefined {
  return redisDeliveryBackendFor(config, log)?.openStore();
}
