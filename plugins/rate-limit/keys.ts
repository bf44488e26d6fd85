import type { FastifyRequest } from 'fastify';
import { firstHeader } from '../shared/headers.js';
import '../auth/principal.js';

/** Builds the bucket key of a request; undefined means the default, the client address. */
export type KeyGenerator = ((request: FastifyRequest) => string) | undefined;

/**
 * Returns the key generator for a `key` option. `ip` is left to @fastify/rate-limit, which
 * groups IPv6 clients by their /64 network. A request that lacks the claim, key name or header
 * is counted by its client address instead, in buckets apart from the keyed ones.
 */
export function keyGeneratorFor(key: string): KeyGenerator {
  if (key === 'ip') {
    return undefined;
  }
  if (key === 'api_key') {
    return (request) => {
      const principal = request.principal;
      return principal?.scheme === 'api_key' ? `key:${principal.id}` : `ip:${request.ip}`;
    };
  }
  if (key.startsWith('jwt:')) {
    const claim = key.slice(4);
    return (request) => {
      const value = request.principal?.claims?.[claim];
      return value === undefined || value === null
        ? `ip:${request.ip}`
        : `jwt:${typeof value === 'string' ? value : JSON.stringify(value)}`;
    };
  }
  const header = key.slice('header:'.length).toLowerCase();
  return (request) => {
    const value = firstHeader(request.headers[header]);
    return value === undefined ? `ip:${request.ip}` : `header:${value}`;
  };
}
