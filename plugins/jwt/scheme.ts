import type { FastifyRequest } from 'fastify';
import { type CryptoKey, type JWTPayload, type JWTVerifyOptions, jwtVerify } from 'jose';
import type { AuthResult, AuthScheme, Principal } from '../../core/index.js';
import { BoundedMap } from '../shared/bounded-map.js';
import { queryParameter } from '../shared/headers.js';
import { KeysUnavailableError } from './jwks.js';
import type { JwtSettings } from './options.js';

/** Resolves the verification key for a token, as `jwtVerify` accepts it. */
export type KeyResolver = Exclude<Parameters<typeof jwtVerify>[1], Uint8Array | CryptoKey>;

/** A token that passed verification, kept so that the next request with it skips the crypto. */
interface VerifiedToken {
  principal: Principal;
  /** Milliseconds since the epoch; Infinity when the token has no `exp`. */
  expiresAt: number;
  notBefore: number;
  /** When this cache entry stops being used, so a rotated-out key takes effect. */
  cachedUntil: number;
}

/**
 * The `jwt` auth scheme of one route: reads a Bearer token, verifies it with jose against the
 * allowed algorithms, checks the claims, and caches tokens that passed so repeated requests
 * with the same token do not repeat the signature check.
 */
export class JwtScheme implements AuthScheme {
  readonly credentialHeaders: readonly string[];
  readonly credentialQuery: readonly string[];
  private readonly verifyOptions: JWTVerifyOptions;
  private readonly verified: BoundedMap<string, VerifiedToken>;
  private readonly toleranceMs: number;
  private readonly missingChallenge: string;

  constructor(
    private readonly settings: JwtSettings,
    algorithms: string[],
    private readonly resolveKey: KeyResolver,
    private readonly now: () => number = Date.now,
  ) {
    this.credentialHeaders = [settings.header];
    this.credentialQuery = settings.query ? [settings.query] : [];
    this.verifyOptions = {
      algorithms,
      issuer: settings.issuer,
      audience: settings.audience,
      clockTolerance: settings.clockToleranceSeconds,
      requiredClaims: settings.requiredClaims,
    };
    this.verified = new BoundedMap(settings.tokenCacheSize);
    this.toleranceMs = settings.clockToleranceSeconds * 1000;
    this.missingChallenge = settings.realm ? `Bearer realm="${settings.realm}"` : 'Bearer';
  }

  /** Returns the result itself for a missing, malformed or cached token, and a promise otherwise. */
  authenticate(request: FastifyRequest): AuthResult | Promise<AuthResult> {
    const token = this.readToken(request);
    if (token === undefined) {
      return {
        ok: false,
        status: 401,
        code: 'PACTOWN_ERR_AUTH_MISSING',
        message: 'missing bearer token',
        challenge: this.missingChallenge,
      };
    }
    if (token === null) {
      return this.invalid('the Authorization header is not a Bearer token');
    }
    const time = this.now();
    const cached = this.verified.get(token);
    if (cached && time < cached.cachedUntil) {
      if (time >= cached.expiresAt + this.toleranceMs) {
        this.verified.delete(token);
        return this.expired();
      }
      if (time >= cached.notBefore - this.toleranceMs) {
        return this.authorize(cached.principal);
      }
    }
    return this.verify(token, time);
  }

  /** Reads the token: undefined when none was sent, null when the header is not a Bearer token. */
  private readToken(request: FastifyRequest): string | undefined | null {
    const value = request.headers[this.settings.header];
    if (typeof value === 'string' && value !== '') {
      if (this.settings.header !== 'authorization') {
        return value.startsWith('Bearer ') ? value.slice(7).trim() : value.trim();
      }
      if (value.length > 7 && value.slice(0, 7).toLowerCase() === 'bearer ') {
        return value.slice(7).trim() || null;
      }
      return null;
    }
    if (this.settings.query) {
      const fromQuery = queryParameter(request.raw.url ?? '', this.settings.query);
      return fromQuery === '' ? undefined : fromQuery;
    }
    return undefined;
  }

  private async verify(token: string, time: number): Promise<AuthResult> {
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, this.resolveKey, {
        ...this.verifyOptions,
        currentDate: new Date(time),
      }));
    } catch (error) {
      return this.describeFailure(error as Error & { code?: string });
    }
    const principal: Principal = {
      id: typeof payload.sub === 'string' ? payload.sub : '',
      scheme: 'jwt',
      claims: payload as Record<string, unknown>,
    };
    this.verified.set(token, {
      principal,
      expiresAt: typeof payload.exp === 'number' ? payload.exp * 1000 : Number.POSITIVE_INFINITY,
      notBefore: typeof payload.nbf === 'number' ? payload.nbf * 1000 : 0,
      cachedUntil: time + this.settings.tokenCacheTtlMs,
    });
    return this.authorize(principal);
  }

  /** Rejects with 403 a principal whose token lacks a scope the route requires. */
  private authorize(principal: Principal): AuthResult {
    const required = this.settings.requiredScopes;
    if (required.length === 0) {
      return { ok: true, principal };
    }
    const granted = scopesOf(principal.claims ?? {});
    const missing = required.filter((scope) => !granted.includes(scope));
    if (missing.length === 0) {
      return { ok: true, principal };
    }
    return {
      ok: false,
      status: 403,
      code: 'PACTOWN_ERR_AUTH_FORBIDDEN',
      message: `the token lacks the required scope ${missing.join(' ')}`,
      challenge: `Bearer error="insufficient_scope", scope="${required.join(' ')}"`,
    };
  }

  private describeFailure(error: Error & { code?: string }): AuthResult {
    if (error instanceof KeysUnavailableError) {
      return {
        ok: false,
        status: 503,
        code: 'PACTOWN_ERR_AUTH_UNAVAILABLE',
        message: 'the signing keys cannot be fetched, so the token cannot be verified; retry later',
      };
    }
    switch (error.code) {
      case 'ERR_JWT_EXPIRED':
        return this.expired();
      case 'ERR_JWT_CLAIM_VALIDATION_FAILED':
        return this.invalid(`the token claims are invalid: ${error.message}`);
      case 'ERR_JOSE_ALG_NOT_ALLOWED':
        return this.invalid('the token algorithm is not allowed on this route');
      case 'ERR_JOSE_NOT_SUPPORTED':
        // jose raises this for an unknown algorithm and for a `crit` header it cannot process.
        return this.invalid('the token uses an algorithm or a crit header that is not supported');
      case 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED':
        return this.invalid('the token signature is invalid');
      case 'ERR_JWKS_NO_MATCHING_KEY':
      case 'ERR_JWKS_MULTIPLE_MATCHING_KEYS':
        return this.invalid('no signing key matches the token "kid"');
      default:
        return this.invalid('the token is malformed');
    }
  }

  private expired(): AuthResult {
    return {
      ok: false,
      status: 401,
      code: 'PACTOWN_ERR_AUTH_EXPIRED',
      message: 'the token has expired',
      challenge: 'Bearer error="invalid_token", error_description="the token has expired"',
    };
  }

  private invalid(message: string): AuthResult {
    return {
      ok: false,
      status: 401,
      code: 'PACTOWN_ERR_AUTH_INVALID',
      message,
      challenge: 'Bearer error="invalid_token"',
    };
  }
}

/** Scopes granted by a token: the space-separated `scope` claim or the `scp` list (RFC 8693). */
function scopesOf(claims: Record<string, unknown>): string[] {
  if (typeof claims.scope === 'string') {
    return claims.scope.split(' ');
  }
  if (Array.isArray(claims.scp)) {
    return claims.scp.filter((scope): scope is string => typeof scope === 'string');
  }
  return [];
}
