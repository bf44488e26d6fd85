import {
  acquireRedis,
  definePlugin,
  PLUGIN_API_VERSION,
  redisConnectionProperties,
  redisSettingsFromOptions,
} from '../../core/index.js';
import { RedisLimiterStore } from './store.js';

/**
 * The `redis` limiter store: fixed-window counters in Redis, so every gateway instance that
 * shares the Redis and `key_prefix` counts a client into the same window. It connects with
 * `stores.redis` (overridable in `stores.options.redis`). A request whose count fails (Redis
 * down, a command past `command_timeout`) is let through or gets a 503, as the route's
 * `on_store_error` chooses.
 *
 * @example
 * ```yaml
 * stores:
 *   redis: { url: ${REDIS_URL} }
 *   limiter: redis
 * ```
 */
export default definePlugin({
  name: 'redis',
  kind: 'limiter-store',
  apiVersion: PLUGIN_API_VERSION,
  description: 'rate-limit counters in Redis, shared by every instance',
  optionsSchema: { type: 'object', properties: redisConnectionProperties },
  create(options: Record<string, unknown>, context) {
    const settings = redisSettingsFromOptions(options, 'the redis limiter store');
    return new RedisLimiterStore(acquireRedis(settings, context.log));
  },
});
