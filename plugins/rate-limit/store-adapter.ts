import type { FastifyRateLimitStoreCtor } from '@fastify/rate-limit';
import type { LimiterStore } from '../../core/index.js';

/** The limiter store failed, so the request could not be counted. */
export class LimiterStoreError extends Error {
  constructor(cause: unknown) {
    super(`limiter store failed: ${(cause as Error)?.message ?? String(cause)}`, { cause });
    this.name = 'LimiterStoreError';
  }
}

/** Returns the key prefix that keeps one route's or group's counters apart in a shared store. */
export function bucketPrefix(bucket: string): string {
  return `${bucket}\u0000`;
}

type IncrCallback = (error: Error | null, result?: { current: number; ttl: number }) => void;

/**
 * Builds a @fastify/rate-limit store class over a core {@link LimiterStore}. Keys are prefixed
 * with `bucket` so routes that share one store keep apart, and store failures are reported to
 * `onError` and passed on as {@link LimiterStoreError}.
 */
export function limiterStoreClass(
  store: LimiterStore,
  bucket: string,
  onError: (error: unknown) => void,
): FastifyRateLimitStoreCtor {
  const prefix = bucketPrefix(bucket);
  const failed = (error: unknown, callback: IncrCallback) => {
    onError(error);
    callback(new LimiterStoreError(error));
  };
  return class PactownLimiterStore {
    incr(key: string, callback: IncrCallback, timeWindow: number): void {
      let counted: ReturnType<LimiterStore['incr']>;
      try {
        counted = store.incr(prefix + key, timeWindow);
      } catch (error) {
        failed(error, callback);
        return;
      }
      // An in-process store counts synchronously, which spares a promise per request.
      if (counted instanceof Promise) {
        counted.then(
          (result) => callback(null, result),
          (error: unknown) => failed(error, callback),
        );
      } else {
        callback(null, counted);
      }
    }

    child(): PactownLimiterStore {
      return new PactownLimiterStore();
    }
  };
}
