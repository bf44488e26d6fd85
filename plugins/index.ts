import type { PluginDescriptor } from '../core/index.js';

/** The policies, auth schemes and stores that ship with the gateway. */
export const builtinPolicies: PluginDescriptor[] = [];
