import type { GatewayConfig } from '../config/types.js';
import type { GatewayStores, PluginContext } from '../plugin-api.js';
import type { PluginRegistry } from '../registry.js';
import type { CacheStore, IdempotencyStore, LimiterStore } from '../stores/interfaces.js';
import { MemoryIdempotencyStore } from '../stores/memory-idempotency.js';
import { sqliteIdempotencyStoreFor } from '../stores/sqlite-idempotency.js';

/** Store settings read from the `stores:` section. */
interface StoreSettings {
  limiter?: string;
  cache?: string;
  options?: Record<string, Record<string, unknown>>;
}

/**
 * Creates store instances on first use, one per store plugin name, so routes that share a store
 * share its counters and entries.
 */
export class StoreSet implements GatewayStores {
  idempotency: IdempotencyStore;
  private readonly limiters = new Map<string, LimiterStore>();
  private readonly caches = new Map<string, CacheStore>();
  private readonly settings: StoreSettings;

  constructor(
    private readonly registry: PluginRegistry,
    config: GatewayConfig,
    private readonly context: () => PluginContext,
  ) {
    this.settings = (config.raw.stores ?? {}) as StoreSettings;
    this.idempotency = sqliteIdempotencyStoreFor(config) ?? new MemoryIdempotencyStore();
  }

  limiter(name?: string): LimiterStore | undefined {
    const chosen = name ?? this.settings.limiter ?? 'memory';
    let store = this.limiters.get(chosen);
    const plugin = this.registry.get('limiter-store', chosen);
    if (!store && plugin) {
      store = plugin.create(this.settings.options?.[chosen] ?? {}, this.context());
      this.limiters.set(chosen, store);
    }
    return store;
  }

  cache(name?: string): CacheStore | undefined {
    const chosen = name ?? this.settings.cache ?? 'memory';
    let store = this.caches.get(chosen);
    const plugin = this.registry.get('cache-store', chosen);
    if (!store && plugin) {
      store = plugin.create(this.settings.options?.[chosen] ?? {}, this.context());
      this.caches.set(chosen, store);
    }
    return store;
  }

  /** Closes every store that was created. */
  async close(): Promise<void> {
    const stores = [this.idempotency, ...this.limiters.values(), ...this.caches.values()];
    await Promise.allSettled(stores.map((store) => store.close?.()));
  }
}
