import {
  DURATION_PATTERN,
  type JsonSchema,
  parseDuration,
  parseSize,
  sizeSchema,
} from '../../core/index.js';

/** Options of the `cache` policy after {@link expandCacheOptions}. */
export interface CacheOptions {
  /** Maximum time in milliseconds a response is served from the cache: the ceiling. */
  ttl: number;
  /** Upstream statuses that may be stored. */
  statuses: number[];
  /** Largest body in bytes that is stored; larger responses pass through untouched. */
  max_body: number;
  /**
   * Request values that identify the user of a request that carries credentials. Empty means
   * such requests bypass the cache and responses with `Set-Cookie` are never stored. Absent
   * when the config does not set it: see {@link userKeyFor}.
   */
  user_key?: string[];
  /** Name of the `cache-store` plugin; the gateway default when absent. */
  store?: string;
}

const CREDENTIAL_PART_PATTERN =
  "^(principal|authorization|cookie|cookie:[^\\s;=]+|header:[!#$%&'*+.^_`|~0-9A-Za-z-]+)$";

const ttlSchema: JsonSchema = {
  anyOf: [
    { type: 'number', exclusiveMinimum: 0 },
    { type: 'string', pattern: DURATION_PATTERN },
  ],
  'x-expected': 'a TTL in seconds or with a unit, such as 60, 60s, 5m or 1h',
};

export const cacheOptionsSchema: JsonSchema = {
  anyOf: [
    { type: 'number', exclusiveMinimum: 0 },
    { type: 'string', pattern: DURATION_PATTERN },
    {
      type: 'object',
      additionalProperties: false,
      required: ['ttl'],
      properties: {
        ttl: ttlSchema,
        statuses: {
          type: 'array',
          minItems: 1,
          uniqueItems: true,
          items: { type: 'integer', minimum: 200, maximum: 599 },
        },
        max_body: sizeSchema,
        // One part alone may be written without the list brackets.
        user_key: {
          anyOf: [
            {
              type: 'string',
              pattern: CREDENTIAL_PART_PATTERN,
            },
            {
              type: 'array',
              uniqueItems: true,
              items: {
                type: 'string',
                pattern: CREDENTIAL_PART_PATTERN,
                'x-expected': 'principal, authorization, cookie, cookie:<name> or header:<name>',
              },
            },
          ],
          'x-expected':
            'principal, authorization, cookie, cookie:<name> or header:<name>, or a list of them such as [principal, header:x-tenant]',
        },
        store: { type: 'string', minLength: 1 },
      },
    },
  ],
  'x-expected': 'a TTL such as 60s or 5m, or a map with ttl: and other cache options',
};

/** Turns `60s`, `60` or `{ttl: 60s, ...}` into {@link CacheOptions}. */
export function expandCacheOptions(value: unknown): CacheOptions {
  if (typeof value === 'number' || typeof value === 'string') {
    return { ttl: parseDuration(value), statuses: [200], max_body: 1024 ** 2 };
  }
  const written = value as {
    ttl: number | string;
    statuses?: number[];
    max_body?: number | string;
    user_key?: string | string[];
    store?: string;
  };
  return {
    ttl: parseDuration(written.ttl),
    statuses: written.statuses ?? [200],
    max_body: parseSize(written.max_body ?? '1mb'),
    user_key: typeof written.user_key === 'string' ? [written.user_key] : written.user_key,
    store: written.store,
  };
}

/** The cache's options on one route, with `user_key` decided. */
export type RouteCacheOptions = CacheOptions & { user_key: string[] };

/**
 * Returns the `user_key` that the cache uses on a route. Without one in the config, a route whose
 * auth policy runs before the cache keys by the principal, so each authenticated user gets their
 * own entries, and other routes let requests with credentials bypass the cache.
 */
export function userKeyFor(options: CacheOptions, policies: readonly { name: string }[]): string[] {
  if (options.user_key !== undefined) {
    return options.user_key;
  }
  return authRunsBeforeCache(policies) ? ['principal'] : [];
}

/**
 * Tells whether a route's auth policy runs before its cache, so that requests reach the cache
 * with a principal.
 */
export function authRunsBeforeCache(policies: readonly { name: string }[]): boolean {
  const auth = policies.findIndex((ref) => ref.name === 'auth');
  const cache = policies.findIndex((ref) => ref.name === 'cache');
  return auth !== -1 && auth < cache;
}
