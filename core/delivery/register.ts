import type { PluginRegistry } from '../registry.js';
import { queueDeliveryMode } from './queue-mode.js';
import { adminSectionSchema, queueSectionSchema, storageSectionSchema } from './settings.js';
import { sourcesSectionSchema } from './sources.js';

/** Registers `delivery: queue` and the `storage:`, `admin:`, `queue:` and `sources:` sections. */
export function registerDelivery(registry: PluginRegistry): void {
  registry.registerDeliveryMode(queueDeliveryMode);
  registry.registerConfigSection('storage', storageSectionSchema);
  registry.registerConfigSection('admin', adminSectionSchema);
  registry.registerConfigSection('queue', queueSectionSchema);
  registry.registerConfigSection('sources', sourcesSectionSchema(registry));
}
