import { definePlugin, PLUGIN_API_VERSION, parseSize } from '../../core/index.js';
import { MemoryCacheStore } from './store.js';

/** Options of the `memory` cache store, from `stores.options.memory`. */
interface MemoryCacheOptions {
  max_entries?: number;
  max_bytes?: number | string;
}

/**
 * The `memory` cache store: responses in the gateway process, least recently used out first,
 * bounded to `max_entries` (10,000 by default) and `max_bytes` (64 MiB by default). Entries are
 * not shared between instances.
 */
export default definePlugin({
  name: 'memory',
  kind: 'cache-store',
  apiVersion: PLUGIN_API_VERSION,
  description: 'in-process response cache, bounded by entries and bytes',
  optionsSchema: {
    type: 'object',
    properties: {
      max_entries: { type: 'integer', minimum: 1 },
      max_bytes: { anyOf: [{ type: 'integer', minimum: 1 }, { type: 'string' }] },
    },
  },
  create(options: MemoryCacheOptions) {
    const maxEntries =
      Number.isInteger(options.max_entries) && (options.max_entries as number) > 0
        ? options.max_entries
        : undefined;
    const maxBytes = options.max_bytes === undefined ? undefined : parseSize(options.max_bytes);
    return new MemoryCacheStore(maxEntries, maxBytes);
  },
});
