import { createHash } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { firstHeader } from '../shared/headers.js';
import '../auth/principal.js';

/** Characters RFC 3986 section 2.3 calls unreserved; their percent-encoding is equivalent. */
const UNRESERVED = /[A-Za-z0-9\-._~]/;

/**
 * Normalises a path or query for the cache key (RFC 3986 section 6.2.2): percent-encoded
 * unreserved characters are decoded and the remaining escapes upper-cased, so `/a%7Eb` and
 * `/a~b` share an entry while `/a%2Fb` and `/a/b` do not.
 */
export function normalizeEncoding(text: string): string {
  if (!text.includes('%')) {
    return text;
  }
  return text.replace(/%([0-9A-Fa-f]{2})/g, (encoded, hex: string) => {
    const character = String.fromCharCode(Number.parseInt(hex, 16));
    return UNRESERVED.test(character) ? character : encoded.toUpperCase();
  });
}

/** Sorts a query by parameter name; repeated names keep their order, since it may matter. */
export function sortQuery(query: string): string {
  if (isSortedPlain(query)) {
    return query;
  }
  const pairs = query.split('&').filter((pair) => pair !== '');
  if (pairs.length < 2) {
    return normalizeEncoding(pairs[0] ?? '');
  }
  const named = pairs.map((pair) => {
    const normalized = normalizeEncoding(pair);
    const end = normalized.indexOf('=');
    return { name: end === -1 ? normalized : normalized.slice(0, end), pair: normalized };
  });
  named.sort((a, b) => compareNames(a.name, b.name));
  return named.map((entry) => entry.pair).join('&');
}

/**
 * Tells whether a query is already in key form: no escapes, no empty pairs and names in
 * non-decreasing order. Clients usually send the same query the same way, so the common case
 * skips splitting and sorting.
 */
function isSortedPlain(query: string): boolean {
  if (query.includes('%') || query.startsWith('&') || query.endsWith('&') || query.includes('&&')) {
    return false;
  }
  let previous = '';
  let start = 0;
  while (start <= query.length) {
    let end = query.indexOf('&', start);
    if (end === -1) {
      end = query.length;
    }
    const equals = query.indexOf('=', start);
    const name = query.slice(start, equals === -1 || equals > end ? end : equals);
    if (name < previous) {
      return false;
    }
    previous = name;
    start = end + 1;
  }
  return true;
}

function compareNames(a: string, b: string): number {
  if (a === b) {
    return 0;
  }
  return a < b ? -1 : 1;
}

/** The cache key parts of a request target. */
export interface TargetKey {
  /** `METHOD host/path?sorted-query`: the key of a response without `Vary`. */
  base: string;
  /** `host/path`: the tag that an unsafe request to the path invalidates. */
  tag: string;
}

/** Builds the base key and the path tag from the method (GET for HEAD), `Host` and target. */
export function targetKey(request: FastifyRequest): TargetKey {
  const url = request.raw.url ?? '/';
  const host = (request.headers.host ?? '').toLowerCase();
  const queryStart = url.indexOf('?');
  const path = normalizeEncoding(queryStart === -1 ? url : url.slice(0, queryStart));
  const tag = `${host}${path}`;
  const query = queryStart === -1 ? '' : sortQuery(url.slice(queryStart + 1));
  // HEAD is GET without the body, so it is served from the stored GET response.
  const method = request.method === 'HEAD' ? 'GET' : request.method;
  const base = query === '' ? `${method} ${tag}` : `${method} ${tag}?${query}`;
  return { base, tag };
}

/** Tells whether a request carries credentials: `Authorization`, a cookie or a principal. */
export function hasCredentials(request: FastifyRequest): boolean {
  return (
    request.headers.authorization !== undefined ||
    request.headers.cookie !== undefined ||
    (request.principal !== undefined && request.principal !== null)
  );
}

/**
 * Builds the key suffix that keeps one user's entries apart from another's: a digest of the
 * values that `user_key` names, so no credential appears in a key. Returns undefined when one of
 * them is missing, since such a request cannot be distinguished from other users' requests.
 */
export function credentialSuffix(request: FastifyRequest, parts: string[]): string | undefined {
  const hash = createHash('sha256');
  for (const part of parts) {
    const value = credentialValue(request, part);
    if (value === undefined || value === '') {
      return undefined;
    }
    hash.update(part).update('\0').update(value).update('\0');
  }
  return `|c:${hash.digest('base64url')}`;
}

function credentialValue(request: FastifyRequest, part: string): string | undefined {
  if (part === 'principal') {
    const principal = request.principal;
    return principal?.id ? `${principal.scheme}:${principal.id}` : undefined;
  }
  if (part === 'authorization' || part === 'cookie') {
    return firstHeader(request.headers[part]);
  }
  if (part.startsWith('cookie:')) {
    return cookieValue(firstHeader(request.headers.cookie), part.slice(7));
  }
  return firstHeader(request.headers[part.slice('header:'.length).toLowerCase()]);
}

function cookieValue(header: string | undefined, name: string): string | undefined {
  for (const pair of header?.split(';') ?? []) {
    const end = pair.indexOf('=');
    if (end !== -1 && pair.slice(0, end).trim() === name) {
      return pair.slice(end + 1).trim();
    }
  }
  return undefined;
}

/** Builds the key suffix for the request headers a response's `Vary` names, digested. */
export function varySuffix(request: FastifyRequest, names: readonly string[]): string {
  const hash = createHash('sha256');
  for (const name of names) {
    const value = request.headers[name];
    hash.update(name).update('\0');
    hash.update(Array.isArray(value) ? value.join(', ') : (value ?? '')).update('\0');
  }
  return `|v:${hash.digest('base64url')}`;
}
