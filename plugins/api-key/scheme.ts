import type { FastifyRequest } from 'fastify';
import type { AuthResult, AuthScheme } from '../../core/index.js';
import { queryParameter } from '../shared/headers.js';
import { presentedDigest } from './keys.js';

/**
 * The `api_key` auth scheme of one route. A presented key is found by its SHA-256 digest, so the
 * time a lookup takes depends on the digest alone. An attacker cannot steer a digest toward a
 * stored one byte by byte, which a plain string comparison of the keys would let them do.
 */
export class ApiKeyScheme implements AuthScheme {
  readonly credentialHeaders: readonly string[];
  readonly credentialQuery: readonly string[];
  private readonly challenge: string;
  private readonly allowed?: Set<string>;

  constructor(
    private readonly header: string,
    private readonly query: string | undefined,
    private readonly byDigest: Map<string, string>,
    allowed: string[] | undefined,
  ) {
    this.credentialHeaders = [header];
    this.credentialQuery = query ? [query] : [];
    this.challenge = `ApiKey header="${header}"`;
    this.allowed = allowed && allowed.length > 0 ? new Set(allowed) : undefined;
  }

  async authenticate(request: FastifyRequest): Promise<AuthResult> {
    const key = this.readKey(request);
    if (key === undefined) {
      return {
        ok: false,
        status: 401,
        code: 'PACTOWN_ERR_AUTH_MISSING',
        message: `missing API key: send it in the ${this.header} header`,
        challenge: this.challenge,
      };
    }
    const name = this.byDigest.get(presentedDigest(key));
    if (name === undefined) {
      return {
        ok: false,
        status: 401,
        code: 'PACTOWN_ERR_AUTH_INVALID',
        message: 'invalid API key',
        challenge: this.challenge,
      };
    }
    if (this.allowed && !this.allowed.has(name)) {
      return {
        ok: false,
        status: 403,
        code: 'PACTOWN_ERR_AUTH_FORBIDDEN',
        message: `API key "${name}" is not allowed on this route`,
      };
    }
    return { ok: true, principal: { id: name, scheme: 'api_key', claims: { key_name: name } } };
  }

  private readKey(request: FastifyRequest): string | undefined {
    const value = request.headers[this.header];
    if (typeof value === 'string' && value !== '') {
      return value;
    }
    if (this.query) {
      const fromQuery = queryParameter(request.raw.url ?? '', this.query);
      return fromQuery === '' ? undefined : fromQuery;
    }
    return undefined;
  }
}
