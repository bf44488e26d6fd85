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
   * Adds one hit to `key` in the current window of `windowMs` milliseconds. Resolves with the
   * hits so far in the window and the milliseconds until it resets.
   */
  incr(key: string, windowMs: number): Promise<{ current: number; ttl: number }>;
  /** Number of keys held, for `/stats`. */
  size(): Promise<number> | number;
  close?(): Promise<void>;
}

/** A stored HTTP response. */
export interface CacheEntry {
  status: number;
  headers: Record<string, string | string[]>;
  body: Buffer;
  /** Milliseconds since the epoch when the entry was stored, for the `Age` header. */
  storedAt: number;
  /** Milliseconds since the epoch after which the entry is stale. */
  expiresAt: number;
}

/** Response storage for the cache policy. */
export interface CacheStore {
  get(key: string): Promise<CacheEntry | undefined>;
  /** Stores `entry` under `key`, tagged so that {@link CacheStore.invalidate} can drop it. */
  set(key: string, entry: CacheEntry, tags: string[]): Promise<void>;
  delete(key: string): Promise<void>;
  /** Drops every entry stored with `tag`. */
  invalidate(tag: string): Promise<void>;
  /** Entries and body bytes held, for `/stats`. */
  size(): Promise<{ entries: number; bytes: number }> | { entries: number; bytes: number };
  close?(): Promise<void>;
}
