import { definePlugin, PLUGIN_API_VERSION } from '../../core/index.js';
import { MemoryLimiterStore } from './store.js';

/** Options of the `memory` limiter store, from `stores.options.memory`. */
interface MemoryLimiterOptions {
  max_keys?: number;
}

/**
 * The `memory` limiter store: fixed-window counters in the gateway process, bounded to
 * `max_keys` clients (100,000 by default). Counters are not shared between instances.
 */
export default definePlugin({
  name: 'memory',
  kind: 'limiter-store',
  apiVersion: PLUGIN_API_VERSION,
  description: 'in-process rate-limit counters, bounded by max_keys',
  optionsSchema: {
    type: 'object',
    properties: { max_keys: { type: 'integer', minimum: 1 } },
  },
  create(options: MemoryLimiterOptions) {
    const maxKeys = options.max_keys;
    return new MemoryLimiterStore(
      Number.isInteger(maxKeys) && (maxKeys as number) > 0 ? maxKeys : undefined,
    );
  },
});
