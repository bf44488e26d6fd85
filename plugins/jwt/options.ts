import { durationSchema, type JsonSchema, parseDuration } from '../../core/index.js';
import { HEADER_NAME_PATTERN } from '../shared/headers.js';

/** Algorithms verified with a shared secret. */
export const HMAC_ALGORITHMS = ['HS256', 'HS384', 'HS512'] as const;

/** Algorithms verified with a public key (PEM or JWKS). */
export const PUBLIC_KEY_ALGORITHMS = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
  'Ed25519',
] as const;

/** Options of the `jwt` auth scheme as written. */
export interface JwtOptions {
  secret?: string;
  secret_encoding?: 'utf8' | 'base64' | 'base64url';
  public_key?: string;
  public_key_file?: string;
  jwks_url?: string;
  algorithms?: string[];
  issuer?: string | string[];
  audience?: string | string[];
  clock_tolerance?: number | string;
  required_claims?: string[];
  required_scopes?: string[];
  header?: string;
  query?: string;
  realm?: string;
  jwks_cache_ttl?: number | string;
  jwks_cooldown?: number | string;
  jwks_timeout?: number | string;
  token_cache_size?: number;
  token_cache_ttl?: number | string;
}

const stringOrList: JsonSchema = {
  anyOf: [
    { type: 'string', minLength: 1 },
    { type: 'array', minItems: 1, items: { type: 'string', minLength: 1 } },
  ],
  'x-expected': 'a string or a list of strings',
};

export const jwtOptionsSchema: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    secret: { type: 'string', minLength: 1, writeOnly: true },
    secret_encoding: { enum: ['utf8', 'base64', 'base64url'] },
    public_key: {
      type: 'string',
      pattern: '-----BEGIN ',
      'x-expected': 'a PEM public key or certificate starting with -----BEGIN',
    },
    public_key_file: { type: 'string', minLength: 1 },
    jwks_url: {
      type: 'string',
      pattern: '^https?://[^\\s]+$',
      'x-expected': 'an http:// or https:// URL of a JSON Web Key Set',
    },
    algorithms: {
      type: 'array',
      minItems: 1,
      uniqueItems: true,
      items: { enum: [...HMAC_ALGORITHMS, ...PUBLIC_KEY_ALGORITHMS] },
    },
    issuer: stringOrList,
    audience: stringOrList,
    clock_tolerance: durationSchema,
    required_claims: { type: 'array', items: { type: 'string', minLength: 1 } },
    required_scopes: { type: 'array', items: { type: 'string', minLength: 1 } },
    header: { type: 'string', pattern: HEADER_NAME_PATTERN },
    query: { type: 'string', minLength: 1 },
    realm: { type: 'string', pattern: '^[^"\\\\]*$', 'x-expected': 'a realm without quotes' },
    jwks_cache_ttl: durationSchema,
    jwks_cooldown: durationSchema,
    jwks_timeout: durationSchema,
    token_cache_size: { type: 'integer', minimum: 0 },
    token_cache_ttl: durationSchema,
  },
};

/** Settings of the `jwt` scheme after defaults, in milliseconds where they are durations. */
export interface JwtSettings {
  header: string;
  query?: string;
  realm?: string;
  issuer?: string | string[];
  audience?: string | string[];
  clockToleranceSeconds: number;
  requiredClaims: string[];
  requiredScopes: string[];
  jwksCacheTtlMs: number;
  jwksCooldownMs: number;
  jwksTimeoutMs: number;
  tokenCacheSize: number;
  tokenCacheTtlMs: number;
}

/** Applies the defaults of every option that does not select a key. */
export function jwtSettings(options: JwtOptions): JwtSettings {
  return {
    header: (options.header ?? 'authorization').toLowerCase(),
    query: options.query,
    realm: options.realm,
    issuer: options.issuer,
    audience: options.audience,
    clockToleranceSeconds: parseDuration(options.clock_tolerance ?? 30) / 1000,
    requiredClaims: options.required_claims ?? [],
    requiredScopes: options.required_scopes ?? [],
    jwksCacheTtlMs: parseDuration(options.jwks_cache_ttl ?? '10m'),
    jwksCooldownMs: parseDuration(options.jwks_cooldown ?? 30),
    jwksTimeoutMs: parseDuration(options.jwks_timeout ?? 5),
    tokenCacheSize: options.token_cache_size ?? 10_000,
    tokenCacheTtlMs: parseDuration(options.token_cache_ttl ?? 60),
  };
}
