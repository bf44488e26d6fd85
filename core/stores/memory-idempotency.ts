import { InsertionOrderedMap } from '../ordered-map.js';
import type { IdempotencyStore } from './interfaces.js';

/**
 * Bounded in-process idempotency store. Keys expire after their TTL; past `maxKeys` the oldest
 * key is dropped first, so a flood of distinct ids cannot grow memory without limit.
 */
export class MemoryIdempotencyStore implements IdempotencyStore {
  // Each claim is set anew, so the oldest entry is the oldest claim.
  private readonly expiries = new InsertionOrderedMap<string, number>();

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
    for (let oldest = this.expiries.oldest(); oldest; oldest = this.expiries.oldest()) {
      const [key, expiry] = oldest;
      if (this.expiries.size <= this.maxKeys && expiry > time) {
        break;
      }
      this.expiries.delete(key);
    }
  }
}
