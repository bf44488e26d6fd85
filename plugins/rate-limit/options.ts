import {
  DURATION_PATTERN,
  type JsonSchema,
  parseDuration,
  parseRate,
  RATE_PATTERN,
} from '../../core/index.js';

/** Options of the `rate-limit` policy after {@link expandRateLimitOptions}. */
export interface RateLimitOptions {
  /** Requests allowed per window and key. */
  max: number;
  /** Window length in milliseconds. */
  window: number;
  /** Request value that a bucket counts: `ip`, `api_key`, `jwt:<claim>` or `header:<name>`. */
  key: string;
  /** Outcome when the limiter store fails: let the request through, or respond with 503. */
  on_store_error: 'allow' | 'deny';
  /** Name of the `limiter-store` plugin; the gateway default when absent. */
  store?: string;
  /** Routes with the same group share buckets; each route counts on its own by default. */
  group?: string;
}

/** Pattern of the `key` option. */
export const KEY_PATTERN = "^(ip|api_key|jwt:[A-Za-z0-9_.:-]+|header:[A-Za-z0-9!#$%&'*+.^_`|~-]+)$";

export const rateLimitOptionsSchema: JsonSchema = {
  anyOf: [
    { type: 'string', pattern: RATE_PATTERN },
    {
      type: 'object',
      additionalProperties: false,
      required: ['max'],
      properties: {
        max: { type: 'integer', minimum: 1 },
        window: {
          anyOf: [
            { type: 'number', exclusiveMinimum: 0 },
            { type: 'string', pattern: DURATION_PATTERN },
          ],
          'x-expected': 'a window in seconds or with a unit, such as 60, 1m or 1h',
        },
        key: {
          type: 'string',
          pattern: KEY_PATTERN,
          'x-expected': 'ip, api_key, jwt:<claim> or header:<name>',
        },
        on_store_error: { enum: ['allow', 'deny'] },
        store: { type: 'string', minLength: 1 },
        group: { type: 'string', minLength: 1 },
      },
    },
  ],
  'x-expected': 'a rate such as 100/min, 10/s, 5000/hour, or a map with max: and window:',
};

/** Turns `100/min` or `{max: 100, window: 1m}` into {@link RateLimitOptions}. */
export function expandRateLimitOptions(value: unknown): RateLimitOptions {
  if (typeof value === 'string') {
    const rate = parseRate(value);
    return { max: rate.max, window: rate.windowMs, key: 'ip', on_store_error: 'allow' };
  }
  const written = value as Partial<Omit<RateLimitOptions, 'window'>> & {
    window?: number | string;
  };
  return {
    max: written.max as number,
    window: parseDuration(written.window ?? 60),
    key: written.key ?? 'ip',
    on_store_error: written.on_store_error ?? 'allow',
    store: written.store,
    group: written.group,
  };
}

/** Formats a window in milliseconds as `second`, `minute`, `hour`, `day` or `N seconds`. */
export function describeWindow(windowMs: number): string {
  const names: [number, string][] = [
    [86_400_000, 'day'],
    [3_600_000, 'hour'],
    [60_000, 'minute'],
    [1000, 'second'],
  ];
  for (const [length, name] of names) {
    if (windowMs === length) {
      return name;
    }
  }
  return `${windowMs / 1000} seconds`;
}
