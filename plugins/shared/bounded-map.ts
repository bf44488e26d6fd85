import { InsertionOrderedMap } from '../../core/index.js';

/**
 * A Map that contains at most `maxEntries` keys. Past the bound the oldest insertion is dropped
 * first, so a flood of distinct keys cannot grow memory without limit.
 */
export class BoundedMap<K, V> {
  private readonly entries = new InsertionOrderedMap<K, V>();

  constructor(private readonly maxEntries: number) {}

  get(key: K): V | undefined {
    return this.entries.get(key);
  }

  set(key: K, value: V): void {
    if (this.maxEntries <= 0) {
      return;
    }
    this.entries.set(key, value);
    if (this.entries.size > this.maxEntries) {
      const [oldest] = this.entries.oldest() as [K, V];
      this.entries.delete(oldest);
    }
  }

  delete(key: K): void {
    this.entries.delete(key);
  }

  get size(): number {
    return this.entries.size;
  }
}
