import type { FastifyRequest } from 'fastify';
import { firstHeader } from '../shared/headers.js';
import '../auth/principal.js';
import { clientAddressKey } from './client-address.js';

/** Builds the bucket key of a request. */
export type KeyGenerator = (request: FastifyRequest) => string;

/**
 * Returns the key generator for a `key` option. `ip` counts by {@link clientAddressKey}: IPv4
 * clients apart, IPv6 clients by their /64 network. A request that lacks the claim, key name or
 * header is counted by its client address instead, in buckets apart from the keyed ones.
 */
export function keyGeneratorFor(key: string): KeyGenerator {
  if (key === 'ip') {
    return (request) => clientAddressKey(request.ip);
  }
  if (key === 'api_key') {
    return (request) => {
      const principal = request.principal;
      return principal?.scheme === 'api_key'
        ? `key:${principal.id}`
        : `ip:${clientAddressKey(request.ip)}`;
    };
  }
  if (key.startsWith('jwt:')) {
    const claim = key.slice(4);
    return (request) => {
      const value = request.principal?.claims?.[claim];
      return value === undefined || value === null
        ? `ip:${clientAddressKey(request.ip)}`
        : `jwt:${typeof value === 'string' ? value : JSON.stringify(value)}`;
    };
  }
  const header = key.slice('header:'.length).toLowerCase();
  return (request) => {
    const value = firstHeader(request.headers[header]);
    return value === undefined ? `ip:${clientAddressKey(request.ip)}` : `header:${value}`;
  };
}
