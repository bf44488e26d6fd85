import type { CacheEntry } from '../../core/index.js';

/** Entry that the first request for a key stored, shared with the requests that waited. */
export interface FlightResult {
  /** The key the response was stored under, with its vary suffix. */
  key: string;
  entry: CacheEntry;
  /** The request header names the response varies on; empty without `Vary`. */
  vary: string[];
}

/** The first request of a miss; it settles the flight once its response is stored or not. */
export interface Flight {
  settle(result: FlightResult | undefined): void;
}

/**
 * Single flight for cache misses: while one request for a key is upstream, later requests for
 * the same key wait for its result instead of sending their own. The map holds only keys with a
 * request in flight.
 */
export class SingleFlight {
  private readonly pending = new Map<string, Promise<FlightResult | undefined>>();

  /** Returns the result to wait for when a request for `key` is already upstream. */
  wait(key: string): Promise<FlightResult | undefined> | undefined {
    return this.pending.get(key);
  }

  /** Registers the caller as the request that fetches `key`. */
  lead(key: string): Flight {
    let resolve!: (result: FlightResult | undefined) => void;
    const promise = new Promise<FlightResult | undefined>((done) => {
      resolve = done;
    });
    this.pending.set(key, promise);
    let settled = false;
    return {
      settle: (result) => {
        if (settled) {
          return;
        }
        settled = true;
        if (this.pending.get(key) === promise) {
          this.pending.delete(key);
        }
        resolve(result);
      },
    };
  }

  /** Number of keys with a request in flight. */
  get size(): number {
    return this.pending.size;
  }
}
