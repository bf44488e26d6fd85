import type { JsonSchema } from '../plugin-api.js';
import type { PluginRegistry } from '../registry.js';
import { durationSchema, sizeSchema } from './units.js';

/** Schema of one entry of a `plugins:` list: a name, or a one-key map of name to options. */
export const pluginRefSchema: JsonSchema = {
  anyOf: [
    { type: 'string', minLength: 1 },
    { type: 'object', minProperties: 1, maxProperties: 1 },
  ],
  'x-expected': 'a plugin name, or a map of one plugin name to its options',
};

// An IPv4 or IPv6 address with an optional prefix length, or a proxy-addr range name. A hop count
// such as 1 is rejected, because Fastify 5.12 ignores a numeric trustProxy.
const TRUSTED_PROXY =
  '(\\d{1,3}(\\.\\d{1,3}){3}|[0-9a-fA-F]*:[0-9a-fA-F:.]*)(/\\d{1,3})?|loopback|linklocal|uniquelocal';
const TRUSTED_PROXY_PATTERN = `^(${TRUSTED_PROXY})$`;
const TRUSTED_PROXY_LIST_PATTERN = `^\\s*(${TRUSTED_PROXY})(\\s*,\\s*(${TRUSTED_PROXY}))*\\s*$`;

const serverSchema: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    port: { type: 'integer', minimum: 0, maximum: 65535 },
    host: { type: 'string', minLength: 1 },
    trust_proxy: {
      anyOf: [
        {
          type: 'array',
          items: {
            type: 'string',
            pattern: TRUSTED_PROXY_PATTERN,
            'x-expected': 'an address or CIDR range such as 10.0.0.0/8',
          },
        },
        { type: 'string', pattern: TRUSTED_PROXY_LIST_PATTERN },
      ],
      'x-expected': 'a list of proxy addresses or CIDR ranges, such as [10.0.0.0/8, 127.0.0.1]',
    },
    body_limit: sizeSchema,
    headers_timeout: durationSchema,
    request_timeout: durationSchema,
    keep_alive_timeout: durationSchema,
    shutdown_timeout: durationSchema,
    log_level: { enum: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] },
    access_log: { type: 'boolean' },
  },
};

/**
 * The `stores:` section that the gateway's store set reads: the default limiter and cache store
 * by plugin name, and options per store plugin name. Other keys stay open for store modules.
 */
const storesSchema: JsonSchema = {
  type: 'object',
  properties: {
    limiter: { type: 'string', minLength: 1 },
    cache: { type: 'string', minLength: 1 },
    options: { type: 'object', additionalProperties: { type: 'object' } },
  },
};

/** Properties that every route accepts, whatever its kind. */
export function commonRouteProperties(registry: PluginRegistry): Record<string, JsonSchema> {
  const properties: Record<string, JsonSchema> = {
    path: {
      type: 'string',
      pattern: '^/[^\\s?#]*$',
      'x-expected': 'a path starting with "/", such as /api/v1 or /api/v1/*',
    },
    description: { type: 'string' },
    plugins: { type: 'array', items: pluginRefSchema },
    exclude: { type: 'array', items: { type: 'string', minLength: 1 } },
  };
  for (const policy of registry.list('policy')) {
    if (policy.routeKey) {
      properties[policy.routeKey] = policy.optionsSchema ?? {};
    }
  }
  return properties;
}

/** Schema of one route: the route kinds chained by their discriminator keys. */
export function routeSchema(registry: PluginRegistry): JsonSchema {
  const common = commonRouteProperties(registry);
  const kinds = registry.listRouteKinds();
  const fallback = kinds.find((kind) => kind.discriminator === undefined);
  let schema: JsonSchema = fallback
    ? fallback.schema(common, registry)
    : { type: 'object', properties: common, additionalProperties: false };
  for (const kind of kinds.filter((candidate) => candidate.discriminator !== undefined).reverse()) {
    schema = {
      if: { type: 'object', required: [kind.discriminator] },
      then: kind.schema(common, registry),
      else: schema,
    };
  }
  return schema;
}

/** Composes the whole config schema from the core and every registered plugin. */
export function configSchema(registry: PluginRegistry): JsonSchema {
  return {
    $schema: 'http://json-schema.org/draft-07/schema#',
    title: 'Pactown Gateway config',
    type: 'object',
    additionalProperties: false,
    properties: {
      server: serverSchema,
      plugins: {
        type: 'array',
        items: {
          type: 'string',
          minLength: 1,
          'x-expected': 'a relative path such as ./my-plugin.js or an npm package name',
        },
      },
      global_plugins: { type: 'array', items: pluginRefSchema },
      routes: { type: 'array', items: routeSchema(registry) },
      stores: storesSchema,
      ...registry.configSections(),
    },
  };
}

/** Returns the config schema without the gateway's own `x-` keywords, for editors. */
export function publishableSchema(registry: PluginRegistry): JsonSchema {
  return JSON.parse(
    JSON.stringify(configSchema(registry), (key, value) =>
      key.startsWith('x-') ? undefined : value,
    ),
  );
}
