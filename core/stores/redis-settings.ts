import type { GatewayConfig } from '../config/types.js';
import { positiveDurationSchema } from '../config/units.js';
import type { JsonSchema } from '../plugin-api.js';
import type { PluginRegistry } from '../registry.js';
import { type RedisSettings, redisSettingsFromOptions } from './redis-connection.js';

/** Store of the idempotency keys of `sync` webhook routes. */
export type IdempotencyBackend = 'memory' | 'sqlite' | 'redis';
/**
 * Store of the delivery queue, dead letters and event-source cursors. `bullmq` keeps the queue
 * in BullMQ queues on the `stores.redis` server, and the cursors beside them.
 */
export type DeliveryBackend = 'sqlite' | 'redis' | 'bullmq';

/** The `stores:` section as written. */
export interface StoresSection {
  redis?: Record<string, unknown>;
  limiter?: string;
  cache?: string;
  idempotency?: IdempotencyBackend;
  delivery?: DeliveryBackend;
  /** Options of store plugins by name. `options.memory` reaches both memory stores. */
  options?: Record<string, Record<string, unknown>>;
}

/** Name of the Redis-backed store plugins and backends. */
export const REDIS = 'redis';
/** Name of the delivery backend built on BullMQ, which needs `stores.redis` as well. */
export const BULLMQ = 'bullmq';

/**
 * Connection keys of `stores.redis`. The `redis` store plugins accept them in
 * `stores.options.redis` too, to point the limiter and cache at another Redis.
 */
export const redisConnectionProperties: Record<string, JsonSchema> = {
  url: {
    type: 'string',
    pattern: '^rediss?://\\S+$',
    writeOnly: true,
    'x-expected': 'a Redis URL such as redis://127.0.0.1:6379 or rediss://:password@host:6380/0',
  },
  key_prefix: {
    type: 'string',
    pattern: '^\\S+$',
    'x-expected': 'a key prefix without spaces, such as "pactown:" or "shop-a:"',
  },
  connect_timeout: positiveDurationSchema,
  command_timeout: positiveDurationSchema,
  source_lock_ttl: positiveDurationSchema,
  worker_heartbeat: positiveDurationSchema,
};

const redisSchema: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['url'],
  properties: redisConnectionProperties,
};

/** Requires `stores.redis` (whose schema requires `url`) when `key` names `redis` or `bullmq`. */
function needsUrlWhenRedis(key: string): JsonSchema {
  return {
    if: { type: 'object', required: [key], properties: { [key]: { enum: [REDIS, BULLMQ] } } },
    then: { required: ['redis'] },
  };
}

function pluginNames(registry: PluginRegistry, kind: 'limiter-store' | 'cache-store'): JsonSchema {
  const names = registry.list(kind).map((plugin) => plugin.name);
  return names.length > 0
    ? { enum: names }
    : { type: 'string', pattern: '^(?!)', 'x-expected': `a loaded ${kind} plugin, but none is` };
}

/** Each entry of `options:` must fit every store plugin of that name (limiter and cache). */
function optionsSchema(registry: PluginRegistry): JsonSchema {
  const properties: Record<string, JsonSchema> = {};
  for (const kind of ['limiter-store', 'cache-store'] as const) {
    for (const plugin of registry.list(kind)) {
      const schema = plugin.optionsSchema ?? { type: 'object' };
      const existing = properties[plugin.name];
      properties[plugin.name] = existing ? { allOf: [existing, schema] } : schema;
    }
  }
  return { type: 'object', properties };
}

/**
 * Schema of the top-level `stores:` section. Its `properties` is a getter because the section
 * is registered before the plugins are, and the limiter and cache choices list the loaded
 * store plugins, read when the config schema is compiled.
 */
export function storesSectionSchema(registry: PluginRegistry): JsonSchema {
  return {
    type: 'object',
    additionalProperties: false,
    get properties() {
      return {
        redis: redisSchema,
        limiter: pluginNames(registry, 'limiter-store'),
        cache: pluginNames(registry, 'cache-store'),
        idempotency: { enum: ['memory', 'sqlite', REDIS] },
        delivery: { enum: ['sqlite', REDIS, BULLMQ] },
        options: optionsSchema(registry),
      };
    },
    allOf: ['limiter', 'cache', 'idempotency', 'delivery'].map(needsUrlWhenRedis),
  };
}

/** Registers the `stores:` section. */
export function registerStoresSection(registry: PluginRegistry): void {
  registry.registerConfigSection('stores', storesSectionSchema(registry));
}

/** Returns the `stores:` section as written, or an empty one. */
export function readStoresSection(config: GatewayConfig): StoresSection {
  return (config.raw.stores ?? {}) as StoresSection;
}

/** Returns the `stores.redis` settings with defaults, or undefined without a Redis URL. */
export function readRedisSettings(config: GatewayConfig): RedisSettings | undefined {
  const redis = readStoresSection(config).redis;
  return redis?.url === undefined ? undefined : redisSettingsFromOptions(redis);
}

/**
 * Returns the store a concern uses: the name written, else `redis` when `stores.redis.url` is
 * set (and `redisAvailable` holds), else the embedded default.
 */
function choose<T extends string>(
  written: T | undefined,
  section: StoresSection,
  embedded: T,
  redisAvailable = true,
): T {
  if (written !== undefined) {
    return written;
  }
  return section.redis?.url !== undefined && redisAvailable ? (REDIS as T) : embedded;
}

/** Returns the limiter store plugin that routes use when they name none. */
export function defaultLimiterStore(config: GatewayConfig, registry: PluginRegistry): string {
  const section = readStoresSection(config);
  return choose(section.limiter, section, 'memory', !!registry.get('limiter-store', REDIS));
}

/** Returns the cache store plugin that routes use when they name none. */
export function defaultCacheStore(config: GatewayConfig, registry: PluginRegistry): string {
  const section = readStoresSection(config);
  return choose(section.cache, section, 'memory', !!registry.get('cache-store', REDIS));
}

/** Returns the idempotency store: as written, else Redis, else SQLite with `storage:`, else memory. */
export function idempotencyBackend(config: GatewayConfig): IdempotencyBackend {
  const section = readStoresSection(config);
  const embedded = config.raw.storage === undefined ? 'memory' : 'sqlite';
  return choose(section.idempotency, section, embedded);
}

/** Returns the delivery store: as written, else Redis when a URL is set, else SQLite. */
export function deliveryBackend(config: GatewayConfig): DeliveryBackend {
  const section = readStoresSection(config);
  return choose(section.delivery, section, 'sqlite');
}

/**
 * Returns the options of the store plugin `name`: `stores.options.<name>`, over the connection
 * settings of `stores.redis` for the `redis` store plugins.
 */
export function storePluginOptions(config: GatewayConfig, name: string): Record<string, unknown> {
  const section = readStoresSection(config);
  const own = section.options?.[name] ?? {};
  return name === REDIS ? { ...section.redis, ...own } : { ...own };
}
