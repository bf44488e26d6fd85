import type { GatewayConfig } from '../config/types.js';
import type { GatewayStores, PluginContext } from '../plugin-api.js';
import type { PluginRegistry } from '../registry.js';
import type { CacheStore, IdempotencyStore, LimiterStore } from '../stores/interfaces.js';
import { idempotencyStoreFor } from '../stores/redis-idempotency.js';
import {
  defaultCacheStore,
  defaultLimiterStore,
  storePluginOptions,
} from '../stores/redis-settings.js';

/**
 * Creates store instances on first use, one per store plugin name, so routes that share a store
 * share its counters and entries.
 */
export class StoreSet implements GatewayStores {
  private idempotencyStore?: IdempotencyStore;
  private readonly limiters = new Map<string, LimiterStore>();
  private readonly caches = new Map<string, CacheStore>();

  constructor(
    private readonly registry: PluginRegistry,
    private readonly config: GatewayConfig,
    private readonly context: () => PluginContext,
  ) {}

  /** The store `stores.idempotency` chose, created on first use (it may connect to Redis). */
  get idempotency(): IdempotencyStore {
    this.idempotencyStore ??= idempotencyStoreFor(this.config, this.context().log);
    return this.idempotencyStore;
  }

  limiter(name?: string): LimiterStore | undefined {
    const chosen = name ?? defaultLimiterStore(this.config, this.registry);
    let store = this.limiters.get(chosen);
    const plugin = this.registry.get('limiter-store', chosen);
    if (!store && plugin) {
      store = plugin.create(storePluginOptions(this.config, chosen), this.context());
      this.limiters.set(chosen, store);
    }
    return store;
  }

  cache(name?: string): CacheStore | undefined {
    const chosen = name ?? defaultCacheStore(this.config, this.registry);
    let store = this.caches.get(chosen);
    const plugin = this.registry.get('cache-store', chosen);
    if (!store && plugin) {
      store = plugin.create(storePluginOptions(this.config, chosen), this.context());
      this.caches.set(chosen, store);
    }
    return store;
  }

  /** Closes every store that was created. */
  async close(): Promise<void> {
    const stores = [this.idempotencyStore, ...this.limiters.values(), ...this.caches.values()];
    await Promise.allSettled(stores.map((store) => store?.close?.()));
  }
}
