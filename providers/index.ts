import type { PluginDescriptor } from '../core/index.js';

/** The webhook providers and event sources that ship with the gateway. */
export const builtinProviders: PluginDescriptor[] = [];
