import { type CacheEntry, type CacheStore, InsertionOrderedMap } from '../../core/index.js';

interface Stored {
  entry: CacheEntry;
  bytes: number;
  tags: string[];
}

/** Bytes counted for each entry beyond its body and headers: the key, maps and bookkeeping. */
const ENTRY_OVERHEAD_BYTES = 256;

/**
 * Bounded in-process response storage that drops the least recently used entry first. It is
 * bounded by entry count and by bytes: bodies plus headers plus a fixed overhead per entry, which
 * estimates the real heap use. An entry larger than the whole byte budget is not stored.
 */
export class MemoryCacheStore implements CacheStore {
  // A read sets the entry anew, so the oldest entry is the least recently used.
  private readonly entries = new InsertionOrderedMap<string, Stored>();
  private readonly tagged = new Map<string, Set<string>>();
  private bytes = 0;

  constructor(
    readonly maxEntries = 10_000,
    readonly maxBytes = 64 * 1024 ** 2,
    private readonly now: () => number = Date.now,
  ) {}

  get(key: string): CacheEntry | undefined {
    const stored = this.entries.get(key);
    if (stored === undefined) {
      return undefined;
    }
    if (stored.entry.expiresAt <= this.now()) {
      this.remove(key);
      return undefined;
    }
    this.entries.set(key, stored);
    return stored.entry;
  }

  async set(key: string, entry: CacheEntry, tags: string[]): Promise<void> {
    this.remove(key);
    const bytes = sizeOf(key, entry);
    if (bytes > this.maxBytes || entry.expiresAt <= this.now()) {
      return;
    }
    this.entries.set(key, { entry, bytes, tags });
    this.bytes += bytes;
    for (const tag of tags) {
      let keys = this.tagged.get(tag);
      if (!keys) {
        keys = new Set();
        this.tagged.set(tag, keys);
      }
      keys.add(key);
    }
    this.evict();
  }

  async delete(key: string): Promise<void> {
    this.remove(key);
  }

  async invalidate(tag: string): Promise<void> {
    for (const key of this.tagged.get(tag) ?? []) {
      this.remove(key);
    }
    this.tagged.delete(tag);
  }

  size(): { entries: number; bytes: number } {
    return { entries: this.entries.size, bytes: this.bytes };
  }

  private evict(): void {
    while (this.entries.size > this.maxEntries || this.bytes > this.maxBytes) {
      const [oldest] = this.entries.oldest() as [string, Stored];
      this.remove(oldest);
    }
  }

  private remove(key: string): void {
    const stored = this.entries.get(key);
    if (stored === undefined) {
      return;
    }
    this.entries.delete(key);
    this.bytes -= stored.bytes;
    for (const tag of stored.tags) {
      const keys = this.tagged.get(tag);
      keys?.delete(key);
      if (keys?.size === 0) {
        this.tagged.delete(tag);
      }
    }
  }
}

function sizeOf(key: string, entry: CacheEntry): number {
  let bytes = ENTRY_OVERHEAD_BYTES + key.length + entry.body.length;
  for (const [name, value] of Object.entries(entry.headers)) {
    bytes += name.length + (Array.isArray(value) ? value.join('').length : value.length);
  }
  return bytes;
}
