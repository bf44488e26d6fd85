/** Retry timing of queued deliveries. */

/** Delays before the retries after a failed attempt: 5 s, 30 s, 2 min, 10 min, 30 min, 1 h, 3 h, 6 h, 12 h. */
export const DEFAULT_RETRY_SCHEDULE_MS: readonly number[] = [
  5_000, 30_000, 120_000, 600_000, 1_800_000, 3_600_000, 10_800_000, 21_600_000, 43_200_000,
];

/** Default fraction by which a retry delay varies either way, so retries of a burst spread out. */
export const DEFAULT_RETRY_JITTER = 0.1;

/** Longest `Retry-After` honoured; a longer one is cut to this. */
export const MAX_RETRY_AFTER_MS = 43_200_000;

/** Retry timing of one route. */
export interface RetryPolicy {
  /** Delay before each retry; its length is the number of retries after the first attempt. */
  scheduleMs: readonly number[];
  /** Fraction from 0 to 1 by which each delay varies up or down. */
  jitter: number;
}

/**
 * Returns the delay before the retry that follows failed attempt number `retryStep` (0-based
 * since enqueue or replay), or undefined when the schedule is used up. A `Retry-After` from the
 * target replaces the scheduled delay, without jitter, up to {@link MAX_RETRY_AFTER_MS}.
 */
export function retryDelay(
  policy: RetryPolicy,
  retryStep: number,
  retryAfterMs?: number,
  random: () => number = Math.random,
): number | undefined {
  const base = policy.scheduleMs[retryStep];
  if (base === undefined) {
    return undefined;
  }
  if (retryAfterMs !== undefined) {
    return Math.min(retryAfterMs, MAX_RETRY_AFTER_MS);
  }
  const spread = base * policy.jitter;
  return Math.max(0, Math.round(base - spread + random() * 2 * spread));
}

/**
 * Parses a `Retry-After` value (RFC 9110 section 10.2.3): delay seconds or an HTTP date. Returns
 * milliseconds from `now`, or undefined when the value is missing or malformed.
 */
export function parseRetryAfter(
  value: string | string[] | undefined,
  now: number,
): number | undefined {
  const text = (Array.isArray(value) ? value[0] : value)?.trim();
  if (!text) {
    return undefined;
  }
  if (/^\d+$/.test(text)) {
    return Number(text) * 1000;
  }
  const date = Date.parse(text);
  if (Number.isNaN(date)) {
    return undefined;
  }
  return Math.max(0, date - now);
}
