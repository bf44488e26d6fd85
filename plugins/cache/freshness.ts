/** Response headers as Fastify's `reply.getHeaders()` returns them. */
export type ResponseHeaders = Record<string, number | string | string[] | undefined>;

/** Parses `Cache-Control` into directive names (lower case) and their values. */
export function parseCacheControl(
  value: number | string | string[] | undefined,
): Map<string, string> {
  const directives = new Map<string, string>();
  if (value === undefined) {
    return directives;
  }
  const text = Array.isArray(value) ? value.join(',') : String(value);
  for (const part of text.split(',')) {
    const equals = part.indexOf('=');
    const name = (equals === -1 ? part : part.slice(0, equals)).trim().toLowerCase();
    if (name !== '') {
      const raw = equals === -1 ? '' : part.slice(equals + 1).trim();
      directives.set(name, raw.replace(/^"(.*)"$/, '$1'));
    }
  }
  return directives;
}

/** Seconds of a delta-seconds value (RFC 9111 section 1.2.2); an invalid one counts as 0. */
function deltaSeconds(value: string): number {
  return /^\d+$/.test(value) ? Number(value) : 0;
}

/**
 * Returns how many milliseconds a shared cache may serve a response (RFC 9111 sections 3 and
 * 4.2), with the route's TTL as the ceiling. Returns undefined when the response must not be
 * stored: `no-store`, `private` or `no-cache`, or a lifetime already used up.
 */
export function storableLifetime(
  headers: ResponseHeaders,
  routeTtlMs: number,
  now: number,
): number | undefined {
  const directives = parseCacheControl(headers['cache-control']);
  if (directives.has('no-store') || directives.has('private') || directives.has('no-cache')) {
    return undefined;
  }
  let lifetimeMs: number;
  const sharedMaxAge = directives.get('s-maxage');
  const maxAge = directives.get('max-age');
  if (sharedMaxAge !== undefined) {
    lifetimeMs = deltaSeconds(sharedMaxAge) * 1000;
  } else if (maxAge !== undefined) {
    lifetimeMs = deltaSeconds(maxAge) * 1000;
  } else if (headers.expires !== undefined) {
    const expires = Date.parse(String(headers.expires));
    const date = headers.date === undefined ? Number.NaN : Date.parse(String(headers.date));
    lifetimeMs = Number.isNaN(expires) ? 0 : expires - (Number.isNaN(date) ? now : date);
  } else {
    lifetimeMs = routeTtlMs;
  }
  const remaining = Math.min(lifetimeMs - ageSeconds(headers) * 1000, routeTtlMs);
  return remaining > 0 ? remaining : undefined;
}

/** Returns the `Age` the upstream reported, in seconds. */
export function ageSeconds(headers: ResponseHeaders): number {
  const age = headers.age;
  return age !== undefined && /^\d+$/.test(String(age)) ? Number(age) : 0;
}

/**
 * Returns the request header names a response's `Vary` lists, lower case, sorted and without
 * repeats. Returns null for `Vary: *`, which no stored response can satisfy.
 */
export function varyNames(headers: ResponseHeaders): string[] | null {
  const value = headers.vary;
  if (value === undefined) {
    return [];
  }
  const text = Array.isArray(value) ? value.join(',') : String(value);
  const names = new Set<string>();
  for (const part of text.split(',')) {
    const name = part.trim().toLowerCase();
    if (name === '*') {
      return null;
    }
    if (name !== '') {
      names.add(name);
    }
  }
  return [...names].sort();
}

/**
 * Tells whether an `If-None-Match` request header matches `etag` by weak comparison (RFC 9110
 * section 13.1.2), so a hit can get a 304 response.
 */
export function etagMatches(ifNoneMatch: string | undefined, etag: unknown): boolean {
  if (ifNoneMatch === undefined || typeof etag !== 'string') {
    return false;
  }
  if (ifNoneMatch.trim() === '*') {
    return true;
  }
  const opaque = etag.replace(/^W\//, '');
  return ifNoneMatch
    .split(',')
    .some((candidate) => candidate.trim().replace(/^W\//, '') === opaque);
}
