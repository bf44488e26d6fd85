import type { CryptoKey, JWSHeaderParameters } from 'jose';
import {
  definePlugin,
  type OptionsIssue,
  PLUGIN_API_VERSION,
  type PluginCheckContext,
  type RoutePluginContext,
} from '../../core/index.js';
import { JwksCache } from './jwks.js';
import { importStaticKeys, resolveKeys, SECRET_ENV } from './keys.js';
import { type JwtOptions, jwtOptionsSchema, jwtSettings } from './options.js';
import { JwtScheme, type KeyResolver } from './scheme.js';

/** Secrets shorter than the HMAC output are allowed for compatibility but weaken HS256. */
const MIN_SECRET_BYTES = 32;

/**
 * The `jwt` auth scheme: Bearer tokens verified with jose. HS256/384/512 use a shared secret
 * (`JWT_SECRET` by default); RS, PS, ES and EdDSA use a PEM public key or a JWKS URL.
 *
 * @example
 * ```yaml
 * auth:
 *   scheme: jwt
 *   jwks_url: https://issuer.example/.well-known/jwks.json
 *   issuer: https://issuer.example/
 *   audience: orders-api
 *   forward_claims: { sub: x-user-id }
 * ```
 */
export default definePlugin({
  name: 'jwt',
  kind: 'auth-scheme',
  apiVersion: PLUGIN_API_VERSION,
  description: 'Bearer JSON Web Tokens (HS*, RS*, PS*, ES*, EdDSA) with secret, PEM key or JWKS',
  optionsSchema: jwtOptionsSchema,
  check(options: JwtOptions, context: PluginCheckContext): OptionsIssue[] {
    return resolveKeys(options, context.env, context.configDir).issues;
  },
  async create(options: JwtOptions, context: RoutePluginContext) {
    const env = context.env ?? process.env;
    const resolved = resolveKeys(options, env, context.configDir);
    const source = resolved.source;
    if (!source) {
      throw new Error(`invalid jwt options: ${resolved.issues.map((i) => i.message).join('; ')}`);
    }
    const settings = jwtSettings(options);
    let resolveKey: KeyResolver;
    if (source.kind === 'jwks') {
      const jwks = new JwksCache(
        source.url,
        {
          cacheTtlMs: settings.jwksCacheTtlMs,
          cooldownMs: settings.jwksCooldownMs,
          timeoutMs: settings.jwksTimeoutMs,
        },
        context.log,
      );
      // Fetch ahead of the first request; a failure is logged and retried on demand.
      void jwks.refresh();
      resolveKey = jwks.getKey;
    } else {
      if (source.kind === 'secret' && source.secret.length < MIN_SECRET_BYTES) {
        context.log.warn(
          {
            bytes: source.secret.length,
            minimum: MIN_SECRET_BYTES,
            // The secret comes from the route's `secret:` when it has one, else from JWT_SECRET.
            ...(options.secret === undefined ? { env: SECRET_ENV } : { option: 'secret' }),
          },
          'jwt secret is shorter than recommended for HS256',
        );
      }
      const keys = await importStaticKeys(source, resolved.algorithms);
      resolveKey = (header: JWSHeaderParameters) => keys.get(header.alg as string) as CryptoKey;
    }
    return new JwtScheme(settings, resolved.algorithms, resolveKey);
  },
});
