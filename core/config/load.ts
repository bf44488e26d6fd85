import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { registerDelivery } from '../delivery/register.js';
import type { JsonSchema, PluginDescriptor } from '../plugin-api.js';
import { importPluginModule, resolvePluginModule } from '../plugin-loader.js';
import { proxyRouteKind } from '../proxy/proxy-kind.js';
import { PluginRegistrationError, PluginRegistry } from '../registry.js';
import { registerStoresSection } from '../stores/redis-settings.js';
import { syncDeliveryMode } from '../webhooks/sync-delivery.js';
import { createWebhookRouteKind } from '../webhooks/webhook-kind.js';
import { ConfigError, type ConfigIssue, formatPath } from './issues.js';
import { normalizeConfig } from './normalize.js';
import { configSchema } from './schema.js';
import { ConfigSource } from './source.js';
import type { GatewayConfig } from './types.js';
import { applicableBranch, createAjv, validateAt } from './validate.js';

/** A validated config together with the plugin registry it was validated against. */
export interface LoadedConfig {
  config: GatewayConfig;
  registry: PluginRegistry;
  /** Names of the environment variables the file references. */
  variables: string[];
}

/** Options of {@link loadConfig}. */
export interface LoadOptions {
  /** Built-in plugins, registered before the file's own `plugins:` list. */
  builtins?: PluginDescriptor[];
  /** Adds route kinds and config sections to a fresh registry. */
  setupRegistry?: (registry: PluginRegistry) => void;
  env?: NodeJS.ProcessEnv;
  /**
   * Returns true for a key path, such as `routes[0].secret`, where an unset variable is not an
   * error. The value stays empty and the problems that follow from it are not reported. It
   * serves commands that read only part of the config, such as `pactown deliveries`.
   */
  unsetAllowed?: (path: string) => boolean;
}

/** Picks the config path: the `--config` value, else `ROUTES_CONFIG`, else `./routes.yaml`. */
export function configPath(
  explicit: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
): string {
  return resolve(explicit ?? env.ROUTES_CONFIG ?? 'routes.yaml');
}

/** Reads, validates and normalises a config file; throws {@link ConfigError} with every problem. */
export async function loadConfig(file: string, options: LoadOptions = {}): Promise<LoadedConfig> {
  const path = resolve(file);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const reason =
      (error as NodeJS.ErrnoException).code === 'ENOENT'
        ? 'file not found'
        : (error as Error).message;
    throw new ConfigError([
      {
        file: path,
        line: 0,
        column: 0,
        path: '',
        message: `cannot read config: ${reason}`,
        hint: 'name the config as FILE or with --config FILE, set ROUTES_CONFIG, or run `pactown init` to write a commented example',
      },
    ]);
  }
  return loadConfigText(text, path, options);
}

/** Validates config text as if read from `file`. */
export async function loadConfigText(
  text: string,
  file: string,
  options: LoadOptions = {},
): Promise<LoadedConfig> {
  const env = options.env ?? process.env;
  const source = new ConfigSource(file, text);
  if (source.issues.length > 0) {
    throw new ConfigError(source.issues);
  }
  source.substituteEnv(env);
  const unsetAllowed = options.unsetAllowed ?? (() => false);
  const reported = source.issues.filter((issue) => !unsetAllowed(issue.path));
  const issues: ConfigIssue[] = [...reported];
  const raw = source.toJS() ?? {};
  if (typeof raw !== 'object' || Array.isArray(raw)) {
    throw new ConfigError([
      {
        file,
        line: 1,
        column: 1,
        path: '',
        message: 'the config must be a map with a routes: list',
      },
    ]);
  }
  const document = raw as Record<string, unknown>;
  const registry = new PluginRegistry();
  registry.registerRouteKind(proxyRouteKind);
  registerDelivery(registry);
  registerStoresSection(registry);
  registry.registerRouteKind(createWebhookRouteKind(registry));
  registry.registerDeliveryMode(syncDeliveryMode);
  options.setupRegistry?.(registry);
  for (const builtin of options.builtins ?? []) {
    registry.register(builtin, 'built-in');
  }
  const dir = dirname(file);
  issues.push(...(await loadFilePlugins(document.plugins, dir, registry, source)));

  const ajv = createAjv();
  // A value whose variable is unset is already reported; its empty stand-in would only add a
  // second message about the same key.
  const unset = source.issues.map((issue) => issue.path);
  const isFollowUp = (issue: ConfigIssue) =>
    unset.some((path) => issue.path === path || issue.path.startsWith(`${path}.`));
  const schemaIssues = validateDocument(ajv, registry, document, source);
  issues.push(...schemaIssues.filter((issue) => !isFollowUp(issue)));
  let config: GatewayConfig | undefined;
  if (issues.length === reported.length) {
    const normalized = normalizeConfig(document, { file, dir, registry, env, ajv, source });
    issues.push(...normalized.issues.filter((issue) => !isFollowUp(issue)));
    config = normalized.config;
  }
  issues.sort((a, b) => a.line - b.line || a.column - b.column);
  if (issues.length > 0 || !config) {
    throw new ConfigError(issues);
  }
  return { config, registry, variables: [...source.variables] };
}

/**
 * Validates the document against the config schema. Each route is validated against the branch
 * of the route schema that applies to it, so only the route kinds, providers and delivery modes
 * that the file uses are compiled.
 */
function validateDocument(
  ajv: ReturnType<typeof createAjv>,
  registry: PluginRegistry,
  document: Record<string, unknown>,
  source: ConfigSource,
): ConfigIssue[] {
  const schema = configSchema(registry);
  const properties = schema.properties as Record<string, JsonSchema>;
  const routeSchema = (properties.routes as { items: JsonSchema }).items;
  properties.routes = { type: 'array', items: { type: 'object' } };
  const issues = validateAt(ajv, schema, document, [], source);
  if (Array.isArray(document.routes)) {
    for (const [index, route] of document.routes.entries()) {
      if (route !== null && typeof route === 'object' && !Array.isArray(route)) {
        const branch = applicableBranch(ajv, routeSchema, route);
        issues.push(...validateAt(ajv, branch, route, ['routes', index], source));
      }
    }
  }
  return issues;
}

async function loadFilePlugins(
  list: unknown,
  dir: string,
  registry: PluginRegistry,
  source: ConfigSource,
): Promise<ConfigIssue[]> {
  if (!Array.isArray(list)) {
    return [];
  }
  const issues: ConfigIssue[] = [];
  for (const [index, specifier] of list.entries()) {
    if (typeof specifier !== 'string') {
      continue;
    }
    const path = ['plugins', index];
    const fail = (message: string, hint?: string) =>
      issues.push({
        file: source.file,
        ...source.locate(path),
        path: formatPath(path),
        message,
        hint,
      });
    let descriptors: unknown[];
    try {
      descriptors = await importPluginModule(resolvePluginModule(specifier, dir));
    } catch (error) {
      fail(`cannot load plugin "${specifier}": ${(error as Error).message}`);
      continue;
    }
    for (const descriptor of descriptors) {
      try {
        registry.register(descriptor, specifier);
      } catch (error) {
        const name = error instanceof PluginRegistrationError ? error.pluginName : specifier;
        fail(`plugin "${name}" from "${specifier}" is invalid: ${(error as Error).message}`);
      }
    }
  }
  return issues;
}
