import { isAbsolute, join, resolve } from 'node:path';
import type { GatewayConfig } from '../config/types.js';
import { durationSchema, parseDuration } from '../config/units.js';
import type { JsonSchema } from '../plugin-api.js';
import { SQLITE_FILE_NAME, type SqliteOptions } from '../stores/sqlite-database.js';
import { DEFAULT_RETRY_JITTER, DEFAULT_RETRY_SCHEDULE_MS } from './schedule.js';

type Duration = number | string;

/** Schema of the top-level `storage:` section. */
export const storageSectionSchema: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    path: {
      type: 'string',
      minLength: 1,
      'x-expected': 'a folder for the database file, such as ./data',
    },
    synchronous: { enum: ['full', 'normal'] },
    retention: durationSchema,
  },
};

/** Schema of the top-level `admin:` section. */
export const adminSectionSchema: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['token'],
  properties: {
    token: {
      type: 'string',
      minLength: 16,
      writeOnly: true,
      'x-expected': 'a random token of at least 16 characters, read from an environment variable',
    },
  },
};

const retryScheduleSchema: JsonSchema = {
  type: 'array',
  items: durationSchema,
  'x-expected': 'a list of delays before each retry, such as [5s, 30s, 2m]',
};

/** Schema of the top-level `queue:` section: worker-wide defaults of `delivery: queue`. */
export const queueSectionSchema: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    concurrency: { type: 'integer', minimum: 1, maximum: 4096 },
    target_concurrency: { type: 'integer', minimum: 1, maximum: 1024 },
    timeout: durationSchema,
    retry_schedule: retryScheduleSchema,
    retry_jitter: { type: 'number', minimum: 0, maximum: 1 },
    max_age: durationSchema,
    poll_interval: durationSchema,
  },
};

/** Route keys that `delivery: queue` adds to webhook routes and event sources. */
export const queueRouteProperties: Record<string, JsonSchema> = {
  order: {
    enum: ['none', 'arrival'],
    'x-expected':
      '"arrival" to deliver to the target one at a time in order of arrival, else "none"',
  },
  timeout: durationSchema,
  retry_schedule: retryScheduleSchema,
  max_age: durationSchema,
  signing_secret: {
    type: 'string',
    minLength: 16,
    writeOnly: true,
    'x-expected': 'a secret of at least 16 characters for X-Pactown-Signature',
  },
};

/** The `storage:` section with defaults applied. */
export interface StorageSettings {
  /** Absolute path of the database file. */
  file: string;
  sqlite: SqliteOptions;
  /** Milliseconds a delivered or dead-lettered delivery is kept. */
  retentionMs: number;
}

/** The `queue:` section with defaults applied. */
export interface QueueSettings {
  concurrency: number;
  targetConcurrency: number;
  timeoutMs: number;
  retryScheduleMs: number[];
  retryJitter: number;
  maxAgeMs: number;
  pollIntervalMs: number;
}

/** The route keys of `delivery: queue`, merged over the `queue:` section. */
export interface QueueRouteSettings {
  ordered: boolean;
  timeoutMs: number;
  retryScheduleMs: number[];
  retryJitter: number;
  maxAgeMs: number;
  signingSecret?: string;
}

/** Default of `storage.retention`: 7 days. */
export const DEFAULT_RETENTION_MS = 7 * 86_400_000;
/** Default of `queue.max_age`: 3 days, as long as Stripe retries. */
export const DEFAULT_MAX_AGE_MS = 3 * 86_400_000;

function duration(value: unknown, fallback: number): number {
  return value === undefined ? fallback : parseDuration(value as Duration);
}

/** Reads `storage:`; a relative `path` resolves from the folder of the config file. */
export function readStorageSettings(config: GatewayConfig): StorageSettings {
  const raw = (config.raw.storage ?? {}) as Record<string, unknown>;
  const folder = (raw.path as string | undefined) ?? './data';
  const absolute = isAbsolute(folder) ? folder : resolve(config.dir, folder);
  return {
    file: join(absolute, SQLITE_FILE_NAME),
    sqlite: { synchronous: raw.synchronous as 'full' | 'normal' | undefined },
    retentionMs: duration(raw.retention, DEFAULT_RETENTION_MS),
  };
}

/** Reads `queue:`. */
export function readQueueSettings(config: GatewayConfig): QueueSettings {
  const raw = (config.raw.queue ?? {}) as Record<string, unknown>;
  const schedule = raw.retry_schedule as Duration[] | undefined;
  return {
    concurrency: (raw.concurrency as number | undefined) ?? 64,
    targetConcurrency: (raw.target_concurrency as number | undefined) ?? 8,
    timeoutMs: duration(raw.timeout, config.defaultTimeout),
    retryScheduleMs: schedule ? schedule.map(parseDuration) : [...DEFAULT_RETRY_SCHEDULE_MS],
    retryJitter: (raw.retry_jitter as number | undefined) ?? DEFAULT_RETRY_JITTER,
    maxAgeMs: duration(raw.max_age, DEFAULT_MAX_AGE_MS),
    pollIntervalMs: duration(raw.poll_interval, 1000),
  };
}

/** Reads the queue keys of one route (or event source) over the `queue:` defaults. */
export function readQueueRouteSettings(
  raw: Record<string, unknown>,
  queue: QueueSettings,
): QueueRouteSettings {
  const schedule = raw.retry_schedule as Duration[] | undefined;
  return {
    ordered: raw.order === 'arrival',
    timeoutMs: duration(raw.timeout, queue.timeoutMs),
    retryScheduleMs: schedule ? schedule.map(parseDuration) : queue.retryScheduleMs,
    retryJitter: queue.retryJitter,
    maxAgeMs: duration(raw.max_age, queue.maxAgeMs),
    signingSecret: raw.signing_secret as string | undefined,
  };
}

/** Returns the admin token, or undefined when the admin API is off. */
export function readAdminToken(config: GatewayConfig): string | undefined {
  const admin = config.raw.admin as { token?: string } | undefined;
  return admin?.token || undefined;
}
