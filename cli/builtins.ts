import type { LoadOptions } from '../core/index.js';
import { builtinPolicies } from '../plugins/index.js';
import { builtinProviders } from '../providers/index.js';

/** Load options with every built-in plugin, as the `pactown` command uses them. */
export function builtinLoadOptions(env: NodeJS.ProcessEnv = process.env): LoadOptions {
  return { builtins: [...builtinPolicies, ...builtinProviders], env };
}
