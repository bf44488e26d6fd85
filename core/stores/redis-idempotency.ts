import type { FastifyBaseLogger } from 'fastify';
import type { GatewayConfig } from '../config/types.js';
import { readStorageSettings } from '../delivery/settings.js';
import type { IdempotencyStore } from './interfaces.js';
import { MemoryIdempotencyStore } from './memory-idempotency.js';
import { acquireRedis, type RedisLease, RedisScript } from './redis-connection.js';
import { idempotencyStoreError } from './redis-errors.js';
import { idempotencyBackend, REDIS, readRedisSettings } from './redis-settings.js';
import { openSqliteDatabase } from './sqlite-database.js';
import { SqliteIdempotencyStore } from './sqlite-idempotency.js';

/**
 * Sets the key only when absent, with its expiry, and indexes it by expiry time so `size` can
 * count live keys without a scan. The value `<expires at>|<delivery id>` is the format the
 * Redis delivery store writes for the keys it claims in the same step as an enqueue.
 */
const CLAIM = new RedisScript(
  'pactownIdempotencyClaim',
  `
local claimed = redis.call('SET', KEYS[1], ARGV[3], 'NX', 'PX', ARGV[1])
if not claimed then
  return 0
end
redis.call('ZADD', KEYS[2], tonumber(ARGV[2]) + tonumber(ARGV[1]), KEYS[1])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', ARGV[2])
return 1
`,
);

const RELEASE = new RedisScript(
  'pactownIdempotencyRelease',
  `
redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], KEYS[1])
return 1
`,
);

/** Returns the key names of idempotency keys under a prefix. The Redis delivery store shares them. */
export function idempotencyKeys(keyPrefix: string): { key(name: string): string; index: string } {
  return {
    key: (name) => `${keyPrefix}idempotency:${name}`,
    index: `${keyPrefix}idempotency:index`,
  };
}

/**
 * Idempotency keys in Redis, one atomic SET NX PX per claim, so of the gateway instances sharing
 * the Redis exactly one claims a key. A failure rejects with a 503 error, so the provider retries.
 */
export class RedisIdempotencyStore implements IdempotencyStore {
  private readonly keys;

  constructor(
    private readonly lease: RedisLease,
    private readonly now: () => number = Date.now,
  ) {
    this.keys = idempotencyKeys(lease.settings.keyPrefix);
  }

  async claim(key: string, ttlMs: number): Promise<boolean> {
    const time = this.now();
    try {
      const claimed = await CLAIM.run(
        this.lease.client,
        [this.keys.key(key), this.keys.index],
        [Math.max(1, Math.round(ttlMs)), time, `${time + ttlMs}|`],
      );
      return claimed === 1;
    } catch (error) {
      throw idempotencyStoreError(error);
    }
  }

  async release(key: string): Promise<void> {
    try {
      await RELEASE.run(this.lease.client, [this.keys.key(key), this.keys.index], []);
    } catch (error) {
      throw idempotencyStoreError(error);
    }
  }

  async size(): Promise<number> {
    return this.lease.client.zcount(this.keys.index, `(${this.now()}`, '+inf');
  }

  async close(): Promise<void> {
    await this.lease.release();
  }
}

/**
 * Creates the idempotency store a config chose with `stores.idempotency`: Redis (the default
 * when `stores.redis.url` is set), SQLite in the `storage:` folder (the default with a
 * `storage:` section), or memory.
 */
export function idempotencyStoreFor(
  config: GatewayConfig,
  log: FastifyBaseLogger,
): IdempotencyStore {
  const backend = idempotencyBackend(config);
  if (backend === REDIS) {
    const settings = readRedisSettings(config);
    if (!settings) {
      throw new Error('stores.idempotency is redis but stores.redis.url is not set; add the URL');
    }
    return new RedisIdempotencyStore(acquireRedis(settings, log));
  }
  if (backend === 'sqlite') {
    const storage = readStorageSettings(config);
    return new SqliteIdempotencyStore(openSqliteDatabase(storage.file, storage.sqlite));
  }
  return new MemoryIdempotencyStore();
}
