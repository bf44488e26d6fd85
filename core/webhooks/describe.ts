import type { RouteConfig } from '../config/types.js';
import type { JsonSchema } from '../plugin-api.js';
import type { PluginRegistry } from '../registry.js';
import { REDACTED } from '../server/redact.js';
import { DEFAULT_DELIVERY_MODE } from './settings.js';

/** Names of the properties that a schema marks `writeOnly`, the convention for secrets. */
function writeOnlyKeys(properties: Record<string, JsonSchema> | undefined): string[] {
  return Object.entries(properties ?? {})
    .filter(([, schema]) => schema?.writeOnly === true)
    .map(([name]) => name);
}

/**
 * Copies a webhook route for `/routes` and `pactown routes`, with `delivery:` filled in. `secret:`
 * and every key that the provider or the delivery mode marks `writeOnly` become `"***"`.
 */
export function describeWebhookRoute(
  route: RouteConfig,
  registry: PluginRegistry,
): Record<string, unknown> {
  const raw = route.raw;
  const delivery = (raw.delivery as string | undefined) ?? DEFAULT_DELIVERY_MODE;
  const plugin = registry.get('webhook-provider', String(raw.provider));
  const mode = registry.deliveryMode(delivery);
  const secretKeys = new Set([
    'secret',
    ...writeOnlyKeys(plugin?.optionsSchema?.properties as Record<string, JsonSchema> | undefined),
    ...writeOnlyKeys(mode?.routeProperties),
  ]);
  const described: Record<string, unknown> = { ...raw, delivery };
  for (const key of secretKeys) {
    if (described[key] !== undefined) {
      described[key] = REDACTED;
    }
  }
  return described;
}
