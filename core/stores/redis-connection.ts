import type { FastifyBaseLogger } from 'fastify';
import { Redis, type RedisOptions } from 'ioredis';
import { parseDuration } from '../config/units.js';

/** Connection settings of `stores.redis`, with defaults applied. */
export interface RedisSettings {
  url: string;
  /** Prefix of every key the gateway writes, so several deployments can share one Redis. */
  keyPrefix: string;
  /** Milliseconds to wait for a TCP connection and the ready check. */
  connectTimeoutMs: number;
  /** Milliseconds a command may take before it fails, so a stalled Redis cannot hang requests. */
  commandTimeoutMs: number;
  /** Milliseconds an event-source lock lives without renewal. It is renewed every third of it. */
  sourceLockTtlMs: number;
  /**
   * Milliseconds between the delivery worker's liveness marks. A worker silent for three of them
   * is taken as dead, and its deliveries in flight go back to the queue.
   */
  workerHeartbeatMs: number;
}

export const DEFAULT_KEY_PREFIX = 'pactown:';
export const DEFAULT_CONNECT_TIMEOUT_MS = 1_000;
export const DEFAULT_COMMAND_TIMEOUT_MS = 1_000;
export const DEFAULT_SOURCE_LOCK_TTL_MS = 30_000;
export const DEFAULT_WORKER_HEARTBEAT_MS = 5_000;

/** Maximum wait between two reconnection attempts. */
const MAX_RECONNECT_DELAY_MS = 2_000;

/** Minimum milliseconds between two log lines about the same connection problem. */
const ERROR_LOG_INTERVAL_MS = 60_000;

/**
 * Reads connection settings from snake_case options as written under `stores.redis` (or a
 * store plugin's options, which the gateway fills from that section). Throws when `url` is
 * missing, naming the key to add.
 */
export function redisSettingsFromOptions(
  options: Record<string, unknown>,
  owner = 'the redis store',
): RedisSettings {
  const url = options.url;
  if (typeof url !== 'string' || url === '') {
    throw new Error(
      `${owner} needs a Redis URL; set stores.redis.url such as redis://127.0.0.1:6379`,
    );
  }
  const duration = (value: unknown, fallback: number) =>
    value === undefined ? fallback : parseDuration(value as number | string);
  return {
    url,
    keyPrefix: (options.key_prefix as string | undefined) ?? DEFAULT_KEY_PREFIX,
    connectTimeoutMs: duration(options.connect_timeout, DEFAULT_CONNECT_TIMEOUT_MS),
    commandTimeoutMs: duration(options.command_timeout, DEFAULT_COMMAND_TIMEOUT_MS),
    sourceLockTtlMs: duration(options.source_lock_ttl, DEFAULT_SOURCE_LOCK_TTL_MS),
    workerHeartbeatMs: duration(options.worker_heartbeat, DEFAULT_WORKER_HEARTBEAT_MS),
  };
}

/** Returns `url` with its password (and user name) replaced by `***`, for logs. */
export function redactRedisUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) {
      parsed.password = '***';
    }
    if (parsed.username && parsed.username !== 'default') {
      parsed.username = '***';
    }
    return parsed.toString();
  } catch {
    return 'an unparsable Redis URL';
  }
}

/**
 * Returns ioredis options that make a dead Redis fail fast. Only the first connection attempt
 * queues commands. After it, a command sent while disconnected fails at once, so the caller's
 * fallback (`on_store_error`, a 503) decides within milliseconds instead of waiting.
 */
export function failFastOptions(settings: RedisSettings): RedisOptions {
  return {
    connectTimeout: settings.connectTimeoutMs,
    commandTimeout: settings.commandTimeoutMs,
    maxRetriesPerRequest: 1,
    enableOfflineQueue: true,
    // A command in flight when the connection drops may or may not have run. Sending it again
    // could run an enqueue twice, so it fails and the caller decides.
    autoResendUnfulfilledCommands: false,
    retryStrategy: (attempt) => Math.min(50 * 2 ** (attempt - 1), MAX_RECONNECT_DELAY_MS),
    lazyConnect: false,
  };
}

/** A use of a shared client. `release` closes the client after its last user. */
export interface RedisLease {
  client: Redis;
  settings: RedisSettings;
  release(): Promise<void>;
}

interface SharedClient {
  client: Redis;
  users: number;
}

const shared = new Map<string, SharedClient>();

function sharingKey(settings: RedisSettings): string {
  return JSON.stringify([settings.url, settings.connectTimeoutMs, settings.commandTimeoutMs]);
}

/**
 * Returns a lease of the process-wide client for `settings`, creating and connecting it on
 * first use. The stores of a gateway share one connection, since every command they send is
 * short and ioredis pipelines them.
 */
export function acquireRedis(settings: RedisSettings, log: FastifyBaseLogger): RedisLease {
  const key = sharingKey(settings);
  let entry = shared.get(key);
  if (!entry) {
    entry = { client: createRedisClient(settings, log), users: 0 };
    shared.set(key, entry);
  }
  entry.users += 1;
  const current = entry;
  let released = false;
  return {
    client: current.client,
    settings,
    release: async () => {
      if (released) {
        return;
      }
      released = true;
      current.users -= 1;
      if (current.users > 0) {
        return;
      }
      shared.delete(key);
      await closeClient(current.client);
    },
  };
}

/**
 * Creates a client with {@link failFastOptions} whose errors are logged, never thrown. An outage
 * is logged when it starts (the connection closed, the first error) and when it ends. Errors in
 * between are counted and logged at most once a minute.
 */
export function createRedisClient(
  settings: RedisSettings,
  log: FastifyBaseLogger,
  overrides: RedisOptions = {},
): Redis {
  const client = new Redis(settings.url, { ...failFastOptions(settings), ...overrides });
  const url = redactRedisUrl(settings.url);
  let ready = false;
  let downSince: number | undefined;
  let loggedAt = 0;
  let suppressed = 0;
  const markDown = () => {
    downSince ??= Date.now();
  };
  client.on('error', (error: Error) => {
    markDown();
    const now = Date.now();
    if (loggedAt !== 0 && now - loggedAt < ERROR_LOG_INTERVAL_MS) {
      suppressed += 1;
      return;
    }
    const repeats = suppressed > 0 ? { suppressed } : {};
    loggedAt = now;
    suppressed = 0;
    log.error({ err: error, redis: url, ...repeats }, 'redis connection failed, reconnecting');
  });
  client.on('close', () => {
    // After the first attempt, commands sent while disconnected fail at once.
    client.options.enableOfflineQueue = false;
    if (ready && !closing.has(client)) {
      ready = false;
      markDown();
      log.warn({ redis: url }, 'redis connection closed, reconnecting');
    }
  });
  client.on('ready', () => {
    client.options.enableOfflineQueue = false;
    ready = true;
    if (downSince !== undefined) {
      const repeats = suppressed > 0 ? { suppressed } : {};
      log.info(
        { redis: url, down_ms: Date.now() - downSince, ...repeats },
        'redis connection restored',
      );
    }
    downSince = undefined;
    loggedAt = 0;
    suppressed = 0;
  });
  return client;
}

/** Clients being closed on purpose, whose 'close' event is no outage. */
const closing = new WeakSet<Redis>();

/** Closes a client with QUIT when connected, else at once. */
export async function closeClient(client: Redis): Promise<void> {
  closing.add(client);
  if (client.status === 'ready') {
    try {
      await client.quit();
      return;
    } catch {
      // The connection dropped during QUIT; disconnect below ends it either way.
    }
  }
  client.disconnect();
}

type ScriptArgument = string | number | Buffer;
type ScriptCommand = (...args: ScriptArgument[]) => Promise<unknown>;

/**
 * A Lua script run with EVALSHA through ioredis's `defineCommand`, which loads it again after a
 * Redis restart emptied the script cache. Keys the script builds from a prefix are not declared,
 * so the scripts need a single Redis node (no Redis Cluster).
 */
export class RedisScript {
  constructor(
    private readonly name: string,
    private readonly lua: string,
  ) {}

  /** Runs the script with string replies. */
  run(client: Redis, keys: string[], args: ScriptArgument[]): Promise<unknown> {
    return this.command(client, this.name)(keys.length, ...keys, ...args);
  }

  /** Runs the script with replies as Buffers, for binary bodies. */
  runBuffer(client: Redis, keys: string[], args: ScriptArgument[]): Promise<unknown> {
    return this.command(client, `${this.name}Buffer`)(keys.length, ...keys, ...args);
  }

  private command(client: Redis, name: string): ScriptCommand {
    const commands = client as unknown as Record<string, ScriptCommand | undefined>;
    if (typeof commands[this.name] !== 'function') {
      client.defineCommand(this.name, { lua: this.lua });
    }
    return (commands[name] as ScriptCommand).bind(client);
  }
}

/** Deletes every key that starts with `prefix`, in batches; for tests and `key_prefix` resets. */
export async function deleteKeysWithPrefix(client: Redis, prefix: string): Promise<number> {
  let cursor = '0';
  let deleted = 0;
  const pattern = `${prefix.replace(/[*?[\]\\]/g, '\\$&')}*`;
  do {
    const [next, keys] = await client.scan(cursor, 'MATCH', pattern, 'COUNT', 500);
    cursor = next;
    if (keys.length > 0) {
      deleted += await client.unlink(...keys);
    }
  } while (cursor !== '0');
  return deleted;
}
