import {
  acquireRedis,
  definePlugin,
  PLUGIN_API_VERSION,
  parseSize,
  redisConnectionProperties,
  redisSettingsFromOptions,
  sizeSchema,
} from '../../core/index.js';
import { RedisCacheStore } from './store.js';

/** Options of the `redis` cache store: `stores.redis` overlaid with `stores.options.redis`. */
interface RedisCacheOptions extends Record<string, unknown> {
  max_entries?: number;
  max_bytes?: number | string;
}

/** Defaults of the memory cache store, which the Redis one shares. */
const DEFAULT_MAX_ENTRIES = 10_000;
const DEFAULT_MAX_BYTES = 64 * 1024 ** 2;

/**
 * The `redis` cache store: responses in Redis, shared by every gateway instance that uses the
 * same Redis and `key_prefix`, bounded like the memory store by `max_entries` (10,000) and
 * `max_bytes` (64 MiB) for the whole shared cache. A failed read is a miss and a failed write
 * is skipped, so a Redis outage makes the cache pass requests to the upstream.
 *
 * @example
 * ```yaml
 * stores:
 *   redis: { url: ${REDIS_URL} }
 *   cache: redis
 *   options:
 *     redis: { max_entries: 50000, max_bytes: 256mb }
 * ```
 */
export default definePlugin({
  name: 'redis',
  kind: 'cache-store',
  apiVersion: PLUGIN_API_VERSION,
  description: 'response cache in Redis, shared by every instance',
  optionsSchema: {
    type: 'object',
    properties: {
      ...redisConnectionProperties,
      max_entries: { type: 'integer', minimum: 1 },
      max_bytes: sizeSchema,
    },
  },
  create(options: RedisCacheOptions, context) {
    const settings = redisSettingsFromOptions(options, 'the redis cache store');
    return new RedisCacheStore(acquireRedis(settings, context.log), {
      maxEntries: options.max_entries ?? DEFAULT_MAX_ENTRIES,
      maxBytes: options.max_bytes === undefined ? DEFAULT_MAX_BYTES : parseSize(options.max_bytes),
    });
  },
});
