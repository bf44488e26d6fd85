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
import { deliveryBackend, REDIS, readRedisSettings } from '../stores/redis-settings.js';
import type { SourceLock } from './redis-sources.js';
import { RedisDeliveryStore } from './redis-store.js';

/**
 * The Redis parts of queued delivery for one gateway instance: the delivery store, the cursor
 * store and the locks that let one instance at a time poll each event source.
 */
export class RedisDeliveryBackend {
  private lockLease?: RedisLease;

  constructor(
    readonly settings: RedisSettings,
    private readonly log: FastifyBaseLogger,
  ) {}

  /** The URL with its password hidden, for log lines. */
  get redactedUrl(): string {
    return redactRedisUrl(this.settings.url);
  }

  openStore(): RedisDeliveryStore {
    return new RedisDeliveryStore(acquireRedis(this.settings, this.log), {
      heartbeatMs: this.settings.workerHeartbeatMs,
      log: this.log,
    });
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

/** Returns the Redis backend when the config keeps its delivery queue in Redis. */
export function redisDeliveryBackendFor(
  config: GatewayConfig,
  log: FastifyBaseLogger,
): RedisDeliveryBackend | undefined {
  if (deliveryBackend(config) !== REDIS) {
    return undefined;
  }
  const settings = readRedisSettings(config);
  if (!settings) {
    throw new Error('stores.delivery is redis but stores.redis.url is not set; add the URL');
  }
  return new RedisDeliveryBackend(settings, log);
}

/**
 * Opens the Redis delivery store of a config for the `pactown deliveries` commands, or returns
 * undefined when the config keeps its queue in SQLite.
 */
export function openRedisDeliveryStore(
  config: GatewayConfig,
  log: FastifyBaseLogger,
): RedisDeliveryStore | undefined {
  return redisDeliveryBackendFor(config, log)?.openStore();
}
