import { DeliveryFilterError } from './errors.js';
import {
  DELIVERY_STATUSES,
  type Delivery,
  type DeliveryAttempt,
  type DeliveryFilter,
  type DeliveryStatus,
  type DeliveryStore,
} from './store.js';

/** Page size of a listing when none is asked for, and the largest one allowed. */
export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 500;

/** Headers shown as `***` by the admin API and the CLI. */
const HIDDEN_HEADERS = new Set(['authorization', 'cookie', 'proxy-authorization', 'x-api-key']);

/** Filter keys accepted by the admin API (query or body) and the CLI options. */
export const FILTER_KEYS = ['status', 'provider', 'target', 'route', 'since', 'until'] as const;

/** Page keys accepted next to the filters of a listing. */
export const PAGE_KEYS = ['limit', 'cursor'] as const;

/**
 * Rejects keys outside `allowed`, so a misspelt filter such as `stauts` fails instead of
 * silently matching every delivery. Throws {@link DeliveryFilterError} naming the key.
 */
export function rejectUnknownKeys(
  input: Record<string, unknown>,
  allowed: readonly string[],
): void {
  for (const key of Object.keys(input)) {
    if (!allowed.includes(key)) {
      throw new DeliveryFilterError(
        `unknown parameter "${key.slice(0, 40)}"; use ${allowed.join(', ')}`,
      );
    }
  }
}

/**
 * Reads a delivery filter from query or body values. `since` and `until` take an ISO 8601 time
 * or milliseconds since the epoch. Throws {@link DeliveryFilterError} naming the bad value.
 */
export function parseDeliveryFilter(input: Record<string, unknown>): DeliveryFilter {
  const filter: DeliveryFilter = {};
  const status = text(input, 'status');
  if (status !== undefined) {
    if (!DELIVERY_STATUSES.includes(status as DeliveryStatus)) {
      throw new DeliveryFilterError(
        `status "${status}" is invalid; use one of ${DELIVERY_STATUSES.join(', ')}`,
      );
    }
    filter.status = status as DeliveryStatus;
  }
  for (const key of ['provider', 'target', 'route'] as const) {
    const value = text(input, key);
    if (value !== undefined) {
      filter[key] = value;
    }
  }
  for (const key of ['since', 'until'] as const) {
    const value = text(input, key);
    if (value !== undefined) {
      filter[key] = parseTime(key, value);
    }
  }
  return filter;
}

/** Reads `limit` (1 to {@link MAX_PAGE_SIZE}) and the opaque `cursor` of a listing. */
export function parsePage(input: Record<string, unknown>): { limit: number; cursor?: string } {
  const raw = text(input, 'limit');
  const limit = raw === undefined ? DEFAULT_PAGE_SIZE : Number(raw);
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE_SIZE) {
    throw new DeliveryFilterError(
      `limit "${raw}" is invalid; use a whole number from 1 to ${MAX_PAGE_SIZE}`,
    );
  }
  const cursor = text(input, 'cursor');
  // Both stores page by the delivery's sequence number, so a cursor is always a whole number.
  if (cursor !== undefined && !/^\d{1,15}$/.test(cursor)) {
    throw new DeliveryFilterError(
      `cursor "${cursor.slice(0, 40)}" is invalid; pass the next_cursor of an earlier page`,
    );
  }
  return { limit, cursor };
}

function text(input: Record<string, unknown>, key: string): string | undefined {
  const value = input[key];
  if (value === undefined || value === null || value === '') {
    return undefined;
  }
  if (typeof value !== 'string' && typeof value !== 'number') {
    throw new DeliveryFilterError(`${key} must be a string`);
  }
  return String(value);
}

function parseTime(key: string, value: string): number {
  const time = /^\d+$/.test(value) ? Number(value) : Date.parse(value);
  if (Number.isNaN(time)) {
    throw new DeliveryFilterError(
      `${key} "${value}" is invalid; use an ISO 8601 time such as 2026-01-31T12:00:00Z or milliseconds since the epoch`,
    );
  }
  return time;
}

/** Converts a delivery to the JSON of the admin API and `pactown deliveries --json`, without its body. */
export function describeDelivery(delivery: Delivery): Record<string, unknown> {
  const time = (value?: number) =>
    value === undefined ? undefined : new Date(value).toISOString();
  return {
    id: delivery.id,
    status: delivery.status,
    route: delivery.route,
    provider: delivery.provider,
    event_id: delivery.eventId,
    event_type: delivery.eventType,
    target: delivery.target,
    ordered: delivery.orderKey !== undefined,
    received_at: time(delivery.receivedAt),
    updated_at: time(delivery.updatedAt),
    attempts: delivery.attempts,
    next_attempt_at: delivery.status === 'pending' ? time(delivery.nextAttemptAt) : undefined,
    delivered_at: time(delivery.deliveredAt),
    last_status: delivery.lastStatus,
    last_error: delivery.lastError,
    dead_reason: delivery.deadReason,
  };
}

/** Converts one attempt to the JSON of the admin API. */
export function describeAttempt(attempt: DeliveryAttempt): Record<string, unknown> {
  return {
    number: attempt.number,
    started_at: new Date(attempt.startedAt).toISOString(),
    duration_ms: attempt.finishedAt - attempt.startedAt,
    status: attempt.statusCode,
    error: attempt.error,
    response_excerpt: attempt.responseExcerpt,
  };
}

/** Lists deliveries, newest first. */
export async function listDeliveries(
  store: DeliveryStore,
  filter: DeliveryFilter,
  page: { limit: number; cursor?: string },
): Promise<{ deliveries: Record<string, unknown>[]; next_cursor?: string }> {
  const result = await store.list(filter, page);
  return { deliveries: result.deliveries.map(describeDelivery), next_cursor: result.nextCursor };
}

/** Shows one delivery with its headers, body and attempts; undefined when not found. */
export async function showDelivery(
  store: DeliveryStore,
  id: string,
): Promise<Record<string, unknown> | undefined> {
  const delivery = await store.get(id);
  if (!delivery) {
    return undefined;
  }
  const attempts = await store.attempts(id);
  const utf8 = delivery.body.toString('utf8');
  const isText = Buffer.from(utf8, 'utf8').equals(delivery.body);
  return {
    ...describeDelivery(delivery),
    headers: Object.fromEntries(
      Object.entries(delivery.headers).map(([name, value]) => [
        name,
        HIDDEN_HEADERS.has(name) ? '***' : value,
      ]),
    ),
    body: isText ? utf8 : delivery.body.toString('base64'),
    body_encoding: isText ? 'utf8' : 'base64',
    attempt_log: attempts.map(describeAttempt),
  };
}

/** The outcome of replaying one delivery. */
export type ReplayOutcome = 'replayed' | 'not_found' | 'in_flight';

/** Makes one delivery due now with a fresh retry schedule. */
export async function replayDelivery(
  store: DeliveryStore,
  id: string,
  now: number,
): Promise<ReplayOutcome> {
  if (await store.replay(id, now)) {
    return 'replayed';
  }
  const delivery = await store.get(id);
  return delivery ? 'in_flight' : 'not_found';
}

/**
 * Replays every delivery that matches `filter`. An empty filter is rejected, so a request
 * without filters cannot re-send every delivery ever made by accident.
 */
export async function replayDeliveries(
  store: DeliveryStore,
  filter: DeliveryFilter,
  now: number,
): Promise<number> {
  if (Object.keys(filter).length === 0) {
    throw new DeliveryFilterError(
      'replaying by filter needs at least one of status, provider, target, route, since, until',
    );
  }
  return store.replayMatching(filter, now);
}
