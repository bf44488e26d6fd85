import { durationSchema, sizeSchema } from '../config/units.js';
import type { JsonSchema, WebhookProviderPlugin } from '../plugin-api.js';
import type { PluginRegistry } from '../registry.js';
import type { DeliveryMode } from './delivery.js';
import { DEFAULT_DELIVERY_MODE } from './settings.js';

/** Schema of `secret:`, shared with the redaction of `/routes`. */
export const secretSchema: JsonSchema = {
  anyOf: [{ type: 'string' }, { type: 'array', minItems: 1, items: { type: 'string' } }],
  writeOnly: true,
  'x-expected': 'a secret, or a list of secrets of which any one may match (rotation)',
};

/** Returns the keys that every webhook route accepts, whatever its provider and delivery mode. */
function webhookProperties(modeNames: string[]): Record<string, JsonSchema> {
  return {
    provider: { type: 'string' },
    secret: secretSchema,
    tolerance: durationSchema,
    target: {
      type: 'string',
      pattern: '^https?://[^\\s/?#]+(/[^\\s?#]*)?(\\?[^\\s#]*)?$',
      'x-expected': 'an http:// or https:// URL such as http://127.0.0.1:3000/events',
    },
    body_limit: sizeSchema,
    delivery: modeNames.length > 0 ? { enum: modeNames } : { type: 'string' },
    dedupe_window: durationSchema,
  };
}

/** Splits a provider's options schema into its properties and the keywords that remain. */
function splitOptionsSchema(plugin: WebhookProviderPlugin) {
  const {
    properties = {},
    required = [],
    type: _type,
    additionalProperties: _additional,
    $schema: _schema,
    $id: _id,
    ...rest
  } = plugin.optionsSchema ?? {};
  return {
    properties: properties as Record<string, JsonSchema>,
    required: required as string[],
    rest,
  };
}

/** Builds the closed schema of a route with one provider and one delivery mode. */
function routeObject(
  common: Record<string, JsonSchema>,
  plugin: WebhookProviderPlugin,
  mode: DeliveryMode | undefined,
  modes: DeliveryMode[],
): JsonSchema {
  const options = splitOptionsSchema(plugin);
  const properties = {
    ...options.properties,
    ...mode?.routeProperties,
    ...common,
    ...webhookProperties(modes.map((candidate) => candidate.name)),
  };
  // Keys of the other delivery modes, so an error can name the mode a key needs.
  const owners: Record<string, string[]> = {};
  for (const other of modes) {
    for (const key of Object.keys(other.routeProperties ?? {})) {
      if (!(key in properties)) {
        owners[key] = [...(owners[key] ?? []), other.name];
      }
    }
  }
  const schema: JsonSchema = {
    type: 'object',
    additionalProperties: false,
    required: ['provider', ...options.required],
    properties,
    ...(Object.keys(owners).length > 0 ? { 'x-key-owners': owners } : {}),
  };
  if (Object.keys(options.rest).length > 0) {
    schema.allOf = [options.rest];
  }
  return schema;
}

/** Builds the schema of one provider's routes, chained over the modes by the `delivery:` value. */
function providerSchema(
  common: Record<string, JsonSchema>,
  plugin: WebhookProviderPlugin,
  modes: DeliveryMode[],
): JsonSchema {
  const fallback = modes.find((mode) => mode.name === DEFAULT_DELIVERY_MODE);
  let schema = routeObject(common, plugin, fallback, modes);
  for (const mode of [...modes].reverse()) {
    schema = {
      if: {
        type: 'object',
        required: ['delivery'],
        properties: { delivery: { const: mode.name } },
      },
      then: routeObject(common, plugin, mode, modes),
      else: schema,
    };
  }
  return schema;
}

/** Builds the schema that rejects a provider name that no loaded provider has. */
function unknownProviderSchema(names: string[]): JsonSchema {
  const provider =
    names.length > 0
      ? { enum: names }
      : {
          type: 'string',
          pattern: '^(?!)',
          'x-expected': 'the name of a loaded webhook provider, but none is loaded',
        };
  return { type: 'object', required: ['provider'], properties: { provider } };
}

/**
 * Builds the schema of a webhook route: one closed object per provider and delivery mode, chosen
 * with `if`/`then` on `provider:` and `delivery:`, so each combination rejects the keys that the
 * others add.
 */
export function webhookRouteSchema(
  common: Record<string, JsonSchema>,
  registry: PluginRegistry,
): JsonSchema {
  const providers = registry.list('webhook-provider');
  const modes = registry.listDeliveryModes();
  let schema = unknownProviderSchema(providers.map((plugin) => plugin.name));
  for (const plugin of [...providers].reverse()) {
    schema = {
      if: {
        type: 'object',
        required: ['provider'],
        properties: { provider: { const: plugin.name } },
      },
      then: providerSchema(common, plugin, modes),
      else: schema,
    };
  }
  return schema;
}
