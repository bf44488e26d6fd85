import {
  definePlugin,
  durationSchema,
  type JsonSchema,
  PLUGIN_API_VERSION,
  type PluginCheckContext,
  parseDuration,
  type RoutePluginContext,
} from '../../core/index.js';
import { BasicAuthScheme } from './scheme.js';
import { type BasicAuthOptions, loadUsers } from './users.js';

const optionsSchema: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    users_file: { type: 'string', minLength: 1 },
    users: { type: 'object', additionalProperties: { type: 'string' }, writeOnly: true },
    realm: { type: 'string', pattern: '^[^"\\\\]*$', 'x-expected': 'a realm without quotes' },
    allowed_users: { type: 'array', items: { type: 'string', minLength: 1 } },
    cache_ttl: durationSchema,
  },
};

/**
 * The `basic` auth scheme: HTTP Basic credentials checked against bcrypt or scrypt hashes from a
 * users file.
 *
 * @example
 * ```yaml
 * auth: { scheme: basic, users_file: ./users.htpasswd, realm: admin }
 * ```
 */
export default definePlugin({
  name: 'basic',
  kind: 'auth-scheme',
  apiVersion: PLUGIN_API_VERSION,
  description: 'HTTP Basic credentials against bcrypt or scrypt hashes from a users file',
  optionsSchema,
  check(options: BasicAuthOptions, context: PluginCheckContext) {
    return loadUsers(options, context.configDir).issues;
  },
  create(options: BasicAuthOptions, context: RoutePluginContext) {
    const loaded = loadUsers(options, context.configDir);
    if (loaded.issues.length > 0) {
      throw new Error(`invalid basic options: ${loaded.issues.map((i) => i.message).join('; ')}`);
    }
    return new BasicAuthScheme(
      loaded.hashes,
      options.realm ?? 'pactown',
      options.allowed_users,
      parseDuration(options.cache_ttl ?? 60),
    );
  },
});
