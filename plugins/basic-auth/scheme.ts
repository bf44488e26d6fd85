import { createHash } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import type { AuthResult, AuthScheme } from '../../core/index.js';
import { BoundedMap } from '../shared/bounded-map.js';
import { verifyPassword } from './hashes.js';

/** Most recently verified credentials kept, so a busy client does not pay a bcrypt per request. */
const VERIFIED_CACHE_SIZE = 1000;

/**
 * The `basic` auth scheme of one route (RFC 7617), which checks passwords against bcrypt or
 * scrypt hashes. An unknown user is checked against a real hash too, so the response time does
 * not reveal which user names exist.
 */
export class BasicAuthScheme implements AuthScheme {
  private readonly challenge: string;
  private readonly allowed?: Set<string>;
  private readonly decoyHash: string;
  /** Users by the SHA-256 of `name:password` that passed, with when that stops counting. */
  private readonly verified = new BoundedMap<string, { user: string; until: number }>(
    VERIFIED_CACHE_SIZE,
  );

  constructor(
    private readonly hashes: Map<string, string>,
    realm: string,
    allowed: string[] | undefined,
    private readonly cacheTtlMs: number,
    private readonly now: () => number = Date.now,
  ) {
    this.challenge = `Basic realm="${realm}", charset="UTF-8"`;
    this.allowed = allowed && allowed.length > 0 ? new Set(allowed) : undefined;
    this.decoyHash = hashes.values().next().value as string;
  }

  async authenticate(request: FastifyRequest): Promise<AuthResult> {
    const header = request.headers.authorization;
    if (header === undefined || header === '') {
      return this.fail(
        'PACTOWN_ERR_AUTH_MISSING',
        'missing credentials: send a Basic Authorization header',
      );
    }
    const credentials = parseBasic(header);
    if (!credentials) {
      return this.fail(
        'PACTOWN_ERR_AUTH_INVALID',
        'the Authorization header is not valid Basic credentials',
      );
    }
    const user = await this.verify(credentials.user, credentials.password);
    if (user === undefined) {
      return this.fail('PACTOWN_ERR_AUTH_INVALID', 'invalid user name or password');
    }
    if (this.allowed && !this.allowed.has(user)) {
      return {
        ok: false,
        status: 403,
        code: 'PACTOWN_ERR_AUTH_FORBIDDEN',
        message: `user "${user}" is not allowed on this route`,
      };
    }
    return { ok: true, principal: { id: user, scheme: 'basic', claims: { user } } };
  }

  private async verify(user: string, password: string): Promise<string | undefined> {
    const time = this.now();
    const digest = createHash('sha256').update(`${user}\0${password}`).digest('base64');
    const cached = this.verified.get(digest);
    if (cached && time < cached.until) {
      return cached.user;
    }
    const hash = this.hashes.get(user);
    const matches = await verifyPassword(password, hash ?? this.decoyHash);
    if (!hash || !matches) {
      return undefined;
    }
    if (this.cacheTtlMs > 0) {
      this.verified.set(digest, { user, until: time + this.cacheTtlMs });
    }
    return user;
  }

  private fail(code: string, message: string): AuthResult {
    return { ok: false, status: 401, code, message, challenge: this.challenge };
  }
}

/** Splits `Basic base64(user:password)`; undefined when malformed. */
function parseBasic(header: string): { user: string; password: string } | undefined {
  if (header.length < 7 || header.slice(0, 6).toLowerCase() !== 'basic ') {
    return undefined;
  }
  const encoded = header.slice(6).trim();
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(encoded)) {
    return undefined;
  }
  const decoded = Buffer.from(encoded, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon === -1) {
    return undefined;
  }
  return { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}
