import {
  definePlugin,
  type JsonSchema,
  PLUGIN_API_VERSION,
  type PluginCheckContext,
  type RoutePluginContext,
} from '../../core/index.js';
import { HEADER_NAME_PATTERN } from '../shared/headers.js';
import { type ApiKeyOptions, loadKeys } from './keys.js';
import { ApiKeyScheme } from './scheme.js';

const optionsSchema: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    header: { type: 'string', pattern: HEADER_NAME_PATTERN },
    query: { type: 'string', minLength: 1 },
    keys: { type: 'object', additionalProperties: { type: 'string' }, writeOnly: true },
    keys_file: { type: 'string', minLength: 1 },
    keys_env_prefix: { type: 'string', pattern: '^[A-Za-z_][A-Za-z0-9_]*$' },
    allowed_keys: { type: 'array', items: { type: 'string', minLength: 1 } },
  },
};

/**
 * The `api_key` auth scheme: a key in a header (`x-api-key` by default) or a query parameter,
 * looked up among named keys. The key name, never its value, becomes the principal id that logs
 * and `rate_limit: {key: api_key}` use.
 *
 * @example
 * ```yaml
 * auth: { scheme: api_key, keys_file: ./api-keys.yaml, allowed_keys: [billing] }
 * ```
 */
export default definePlugin({
  name: 'api_key',
  kind: 'auth-scheme',
  apiVersion: PLUGIN_API_VERSION,
  description: 'named API keys in a header or query parameter, from the config, a file or env',
  optionsSchema,
  check(options: ApiKeyOptions, context: PluginCheckContext) {
    return loadKeys(options, context.env, context.configDir).issues;
  },
  create(options: ApiKeyOptions, context: RoutePluginContext) {
    const loaded = loadKeys(options, context.env ?? process.env, context.configDir);
    if (loaded.issues.length > 0) {
      throw new Error(`invalid api_key options: ${loaded.issues.map((i) => i.message).join('; ')}`);
    }
    const header = (options.header ?? 'x-api-key').toLowerCase();
    return new ApiKeyScheme(header, options.query, loaded.byDigest, options.allowed_keys);
  },
});
