import { InsertionOrderedMap, type LimiterStore } from '../../core/index.js';

interface Window {
  count: number;
  /** Milliseconds since the epoch when the window ends. */
  endsAt: number;
}

/** How many ended windows one `incr` sweeps from the oldest end, to keep the map tidy. */
const SWEEP_PER_INCR = 2;

/**
 * Bounded in-process fixed-window counters. Past `maxKeys` the oldest window is dropped first,
 * so a flood of distinct clients cannot grow memory without limit. A dropped client starts a
 * fresh window on its next request, which lets it through early: size `maxKeys` above the number
 * of clients expected within one window.
 */
export class MemoryLimiterStore implements LimiterStore {
  readonly synchronous = true;
  // Each new window is set anew, so the oldest entry is the window that started first.
  private readonly windows = new InsertionOrderedMap<string, Window>();

  constructor(
    readonly maxKeys = 100_000,
    private readonly now: () => number = Date.now,
  ) {}

  incr(key: string, windowMs: number): { current: number; ttl: number } {
    const time = this.now();
    let window = this.windows.get(key);
    if (window === undefined || window.endsAt <= time) {
      if (window !== undefined) {
        this.windows.delete(key);
      }
      window = { count: 0, endsAt: time + windowMs };
      this.windows.set(key, window);
      this.evict(time);
    }
    window.count++;
    return { current: window.count, ttl: window.endsAt - time };
  }

  size(): number {
    return this.windows.size;
  }

  private evict(time: number): void {
    let swept = 0;
    for (let oldest = this.windows.oldest(); oldest; oldest = this.windows.oldest()) {
      const [key, window] = oldest;
      const ended = window.endsAt <= time && swept < SWEEP_PER_INCR;
      if (!ended && this.windows.size <= this.maxKeys) {
        return;
      }
      this.windows.delete(key);
      swept++;
    }
  }
}
