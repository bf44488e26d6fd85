import type { IdempotencyStore } from './interfaces.js';

/**
 * Bounded in-process idempotency store. Keys expire after their TTL; past `maxKeys` the oldest
 * key is dropped first, so a flood of distinct ids cannot grow memory without limit.
 */
export class MemoryIdempotencyStore implements IdempotencyStore {
  // A Map keeps insertion order, so its first key is the oldest claim.
  private readonly expiries = new Map<string, number>();

  constructor(
    private readonly maxKeys = 100_000,
    private readonly now: () => number = Date.now,
  ) {}

  async claim(key: string, ttlMs: number): Promise<boolean> {
    const time = this.now();
    const expiry = this.expiries.get(key);
    if (expiry !== undefined && expiry > time) {
      return false;
    }
    this.expiries.delete(key);
    this.expiries.set(key, time + ttlMs);
    this.evict(time);
    return true;
  }

  async release(key: string): Promise<void> {
    this.expiries.delete(key);
  }

  size(): number {
    return this.expiries.size;
  }

  private evict(time: number): void {
    for (const [key, expiry] of this.expiries) {
      if (this.expiries.size <= this.maxKeys && expiry > time) {
        break;
      }
      this.expiries.delete(key);
    }
  }
}
