import { referencedVariables } from '../../core/config/env.js';
import {
  ConfigError,
  type ConfigIssue,
  loadConfigText,
  type PluginRegistry,
} from '../../core/index.js';
import { builtinLoadOptions } from '../builtins.js';
import type { DeploySource } from './source.js';

/** Facts that deploy learns from validating the source config. */
export interface SourceCheck {
  /** Whether this gateway build has a `storage:` config section. */
  storageSection: boolean;
  /**
   * Variables with no value here and no default, referenced or read by a check. The gateway
   * checks them when it starts.
   */
  unsetVariables: string[];
  /**
   * Variables that the config's checks read without a `${...}` reference, such as `JWT_SECRET`
   * for a `jwt` route without a secret, or `STRIPE_WEBHOOK_SECRET` for a Stripe route.
   */
  implicitVariables: string[];
}

/** Variables the gateway reads for its own settings. They have defaults, so none is required. */
const OWN_SETTINGS = new Set([
  'HOST',
  'PORT',
  'ROUTES_CONFIG',
  'LOG_LEVEL',
  'DEFAULT_TIMEOUT',
  'MAX_RETRIES',
  'NODE_ENV',
]);

/**
 * A stand-in for an implicit variable that is unset here: 64 letters and digits, which pass
 * length checks and decode as base64.
 */
// NOTE: a check that needs a particular format, such as a PEM key, still fails on the stand-in,
// so deploy reports that variable as an error instead of listing it.
const PLACEHOLDER = 'PactownDeployPlaceholder00000000'.repeat(2);

const UNSET = /^environment variable (\S+) is not set and has no default$/;

/**
 * Validates the config as `pactown validate` does, with line numbers of the source file (also for
 * a Markdown file). Variables unset on this machine are expected, because their values live in the
 * server's .env, so problems that only come from them are left out. Throws {@link ConfigError}
 * with the remaining problems.
 */
export async function checkSourceConfig(
  source: DeploySource,
  env: NodeJS.ProcessEnv = process.env,
): Promise<SourceCheck> {
  // Blank lines in front keep the line numbers of the Markdown file.
  const text = '\n'.repeat(source.firstLine - 1) + source.yaml;
  const referenced = new Set(referencedVariables(text));
  const reads = new Set<string>();
  const first = await tryLoad(text, source, recordingEnv(env, reads));
  const implicit = [...reads].filter(
    (name) => !referenced.has(name) && !OWN_SETTINGS.has(name) && /^[A-Z][A-Z0-9_]*$/.test(name),
  );
  const implicitUnset = implicit.filter((name) => !env[name]);
  let result = first;
  if (first.remaining.length > 0 && implicitUnset.length > 0) {
    // The values live in the server's .env, so check again with stand-ins for them.
    const filled = { ...env };
    for (const name of implicitUnset) {
      filled[name] = PLACEHOLDER;
    }
    result = await tryLoad(text, source, filled);
  }
  if (result.remaining.length > 0) {
    throw new ConfigError(result.remaining);
  }
  return {
    storageSection: hasStorageSection(result.registry),
    unsetVariables: [...result.unset, ...implicitUnset],
    implicitVariables: implicit.sort(),
  };
}

interface LoadAttempt {
  registry?: PluginRegistry;
  unset: string[];
  remaining: ConfigIssue[];
}

async function tryLoad(
  text: string,
  source: DeploySource,
  env: NodeJS.ProcessEnv,
): Promise<LoadAttempt> {
  const options = builtinLoadOptions(env);
  let registry: PluginRegistry | undefined;
  const setupRegistry = (created: PluginRegistry) => {
    options.setupRegistry?.(created);
    registry = created;
  };
  try {
    await loadConfigText(text, source.file, { ...options, setupRegistry });
    return { registry, unset: [], remaining: [] };
  } catch (error) {
    if (!(error instanceof ConfigError)) {
      throw error;
    }
    return { registry, ...splitUnsetIssues(error.issues) };
  }
}

/** Wraps `env` so that every variable name read from it is added to `reads`. */
function recordingEnv(env: NodeJS.ProcessEnv, reads: Set<string>): NodeJS.ProcessEnv {
  return new Proxy(env, {
    get(target, name) {
      if (typeof name === 'string') {
        reads.add(name);
      }
      return Reflect.get(target, name);
    },
  });
}

function hasStorageSection(registry: PluginRegistry | undefined): boolean {
  return registry !== undefined && 'storage' in registry.configSections();
}

/** Separates unset-variable issues, and issues at the same key paths, from the rest. */
function splitUnsetIssues(issues: ConfigIssue[]): { unset: string[]; remaining: ConfigIssue[] } {
  const unset = new Set<string>();
  const paths: string[] = [];
  for (const issue of issues) {
    const match = UNSET.exec(issue.message);
    if (match) {
      unset.add(match[1]);
      paths.push(issue.path);
    }
  }
  const dependsOnUnset = (path: string) =>
    paths.some(
      (unsetPath) =>
        path === unsetPath || path.startsWith(`${unsetPath}.`) || path.startsWith(`${unsetPath}[`),
    );
  const remaining = issues.filter(
    (issue) => !UNSET.test(issue.message) && !dependsOnUnset(issue.path),
  );
  return { unset: [...unset], remaining };
}
