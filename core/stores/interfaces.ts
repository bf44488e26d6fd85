/**
 * Store interfaces. Each has an embedded implementation and may have distributed ones; every
 * implementation must pass the shared store test suite in test/stores.
 */

/** Keys seen recently, for de-duplicating webhook deliveries. */
export interface IdempotencyStore {
  /**
   * Records `key` for `ttlMs` milliseconds if it is not recorded yet. Resolves true when this call
   * recorded it, false when the key was already there (a duplicate). Must be atomic across every
   * gateway instance sharing the store.
   */
  claim(key: string, ttlMs: number): Promise<boolean>;
  /** Forgets `key`, so a delivery that failed before it was accepted can be sent again. */
  release(key: string): Promise<void>;
  /** Number of keys held, for `/stats`. */
  size(): Promise<number> | number;
  close?(): Promise<void>;
}

/** Counters for fixed-window rate limiting. */
export interface LimiterStore {
  /**
   * Adds one hit to `key` in its current window. The first hit on a key, or the first after its
   * window ended, starts a new window of `windowMs` milliseconds. Resolves with the hits counted
   * in the window so far (1 for the first) and the milliseconds until it ends (> 0). Must be
   * atomic across every gateway instance sharing the store; rejects when the store fails. An
   * in-process store may return the result directly instead of a promise.
   */
  incr(
    key: string,
    windowMs: number,
  ): { current: number; ttl: number } | Promise<{ current: number; ttl: number }>;
  /**
   * True when `incr` always returns its result directly, never a promise, as an in-process store
   * can. The rate-limit policy then counts and decides within the request's hook, without
   * @fastify/rate-limit's asynchronous check.
   */
  readonly synchronous?: boolean;
  /** Number of keys held, for `/stats`; may count keys whose window has ended. */
  size(): Promise<number> | number;
  close?(): Promise<void>;
}

/** A stored HTTP response, or a variant index that points to stored responses. */
export interface CacheEntry {
  status: number;
  /** Response headers with lower-case names. */
  headers: Record<string, string | string[]>;
  body: Buffer;
  /**
   * Milliseconds since the epoch when the response was generated: the time it was stored minus
   * the `Age` the upstream reported. The `Age` header of a hit counts from here.
   */
  storedAt: number;
  /** Milliseconds since the epoch after which the entry is stale and must not be served. */
  expiresAt: number;
  /**
   * Set on a variant index instead of a response (then `status` is 0 and `body` empty): the
   * request header names, lower case and sorted, that the response's `Vary` listed. Their values
   * select the key of the stored variant.
   */
  vary?: string[];
}

/** Response storage for the cache policy. */
export interface CacheStore {
  /**
   * Returns the entry under `key`, or undefined when there is none or it has expired. An
   * in-process store may return it directly instead of a promise, which spares the cache policy
   * a promise per hit.
   */
  get(key: string): CacheEntry | undefined | Promise<CacheEntry | undefined>;
  /**
   * Stores `entry` under `key` until its `expiresAt`, tagged so that
   * {@link CacheStore.invalidate} can drop it. Replaces an entry under the same key. A store that
   * is full may drop other entries to make room, or decline an entry larger than its capacity.
   */
  set(key: string, entry: CacheEntry, tags: string[]): Promise<void>;
  delete(key: string): Promise<void>;
  /** Drops every entry stored with `tag`. */
  invalidate(tag: string): Promise<void>;
  /** Entries and bytes held, for `/stats`. */
  size(): Promise<{ entries: number; bytes: number }> | { entries: number; bytes: number };
  close?(): Promise<void>;
}
