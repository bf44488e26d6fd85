import { parseDuration, parseSize } from '../config/units.js';
import type { WebhookProviderOptions, WebhookProviderPlugin } from '../plugin-api.js';
import type { PluginRegistry } from '../registry.js';

/** Seconds a signed timestamp may be off, either way, when a route sets no `tolerance`. */
export const DEFAULT_TOLERANCE_SECONDS = 300;
/** Body limit of a provider that declares none: 1 MiB. */
export const DEFAULT_WEBHOOK_BODY_LIMIT = 1024 * 1024;
/** How long an event id is remembered when a route sets no `dedupe_window`: 72 h. */
export const DEFAULT_DEDUPE_WINDOW_MS = 72 * 3_600_000;
/** Delivery mode of a route without `delivery:`. */
export const DEFAULT_DELIVERY_MODE = 'sync';

/** Origin of a route's secrets. */
export type SecretSource = 'route' | 'env' | 'none';

/** A webhook route's keys with defaults applied. */
export interface WebhookSettings {
  path: string;
  plugin: WebhookProviderPlugin;
  /** The route keys that the provider's `optionsSchema` lists. */
  providerOptions: Record<string, unknown>;
  secrets: string[];
  secretSource: SecretSource;
  /** Seconds. */
  tolerance: number;
  /** Bytes. */
  bodyLimit: number;
  delivery: string;
  dedupeWindowMs: number;
  target?: string;
}

/** Returns the path of a webhook route: `path:` as written, else `/webhooks/<provider>`. */
export function webhookPath(raw: Record<string, unknown>): string {
  return (raw.path as string | undefined) ?? `/webhooks/${String(raw.provider)}`;
}

/** Names of the route keys that a provider adds through its `optionsSchema`. */
export function providerKeys(plugin: WebhookProviderPlugin): string[] {
  const properties = plugin.optionsSchema?.properties as Record<string, unknown> | undefined;
  return Object.keys(properties ?? {});
}

/** Copies the provider's own keys out of a route. */
export function pickProviderOptions(
  raw: Record<string, unknown>,
  plugin: WebhookProviderPlugin,
): Record<string, unknown> {
  const options: Record<string, unknown> = {};
  for (const key of providerKeys(plugin)) {
    if (raw[key] !== undefined) {
      options[key] = raw[key];
    }
  }
  return options;
}

/**
 * Reads a route's secrets: `secret:` as a string or a list, else the provider's environment
 * variable (such as STRIPE_WEBHOOK_SECRET) when the route needs a secret. An unset or empty
 * variable gives no secret.
 */
export function resolveSecrets(
  raw: Record<string, unknown>,
  plugin: WebhookProviderPlugin,
  env: NodeJS.ProcessEnv,
): { secrets: string[]; source: SecretSource } {
  if (raw.secret !== undefined) {
    const list = Array.isArray(raw.secret) ? raw.secret : [raw.secret];
    return { secrets: list.map((secret) => String(secret)), source: 'route' };
  }
  // The variable only supplies a secret that the route needs, so InPost's shipx mode, which
  // checks no signature, ignores an INPOST_WEBHOOK_SECRET meant for another route.
  const required = needsSecret(plugin, pickProviderOptions(raw, plugin));
  const fromEnv = plugin.secretEnv && required ? env[plugin.secretEnv] : undefined;
  if (fromEnv) {
    return { secrets: [fromEnv], source: 'env' };
  }
  return { secrets: [], source: 'none' };
}

/** Returns whether a provider needs a secret with these provider keys. */
export function needsSecret(
  plugin: WebhookProviderPlugin,
  providerOptions: Record<string, unknown>,
): boolean {
  const rule = plugin.requiresSecret ?? true;
  return typeof rule === 'function' ? rule(providerOptions) : rule;
}

/** Returns whether the route also serves the paths below its own. */
export function servesSubpaths(
  plugin: WebhookProviderPlugin,
  providerOptions: Record<string, unknown>,
): boolean {
  const rule = plugin.subpaths ?? false;
  return typeof rule === 'function' ? rule(providerOptions) : rule;
}

/** Reads a schema-valid webhook route with every default applied. */
export function readWebhookSettings(
  raw: Record<string, unknown>,
  registry: PluginRegistry,
  env: NodeJS.ProcessEnv,
): WebhookSettings {
  const plugin = registry.get('webhook-provider', String(raw.provider));
  if (!plugin) {
    throw new Error(`webhook provider "${String(raw.provider)}" is not registered`);
  }
  const { secrets, source } = resolveSecrets(raw, plugin, env);
  const duration = (value: unknown, fallback: number) =>
    value === undefined ? fallback : parseDuration(value as number | string);
  return {
    path: webhookPath(raw),
    plugin,
    providerOptions: pickProviderOptions(raw, plugin),
    secrets,
    secretSource: source,
    tolerance: duration(raw.tolerance, DEFAULT_TOLERANCE_SECONDS * 1000) / 1000,
    bodyLimit:
      raw.body_limit === undefined
        ? (plugin.defaultBodyLimit ?? DEFAULT_WEBHOOK_BODY_LIMIT)
        : parseSize(raw.body_limit as number | string),
    delivery: (raw.delivery as string | undefined) ?? DEFAULT_DELIVERY_MODE,
    dedupeWindowMs: duration(raw.dedupe_window, DEFAULT_DEDUPE_WINDOW_MS),
    target: raw.target as string | undefined,
  };
}

/** Builds the options that a provider's `create` and `check` receive: its keys, secrets, tolerance. */
export function providerCreateOptions(
  settings: WebhookSettings,
): Record<string, unknown> & WebhookProviderOptions {
  return {
    ...settings.providerOptions,
    secrets: settings.secrets,
    tolerance: settings.tolerance,
  };
}
