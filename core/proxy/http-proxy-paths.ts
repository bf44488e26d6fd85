/**
 * The path mapping and destination checks of @fastify/http-proxy 11 (its index.js, which does
 * not export them), for routes that the shared proxy table serves without the plugin. They take
 * the gateway's router settings: case-sensitive, duplicate and trailing slashes kept.
 */

// NOTE: copied from @fastify/http-proxy 11.6.3. A later version may map or check paths
// differently, and then table routes and own routes would disagree; the parity test shows it.
const ABSOLUTE_URL = /^[a-zA-Z][a-zA-Z\d+.-]*:/;
const HTTP_URL = /^https?:\/\//;
const PLACEHOLDER_ORIGIN = 'http://fastify-http-proxy.invalid';

/** Creates the error the plugin raises for a destination outside the route: status 400. */
function invalidDestination(): Error {
  // The plugin's own message, which the error handler turns into PACTOWN_ERR_PATH_TRAVERSAL.
  return Object.assign(new Error('source/request contain invalid characters'), {
    statusCode: 400,
  });
}

/** Tells whether a `Location` value is an absolute http(s) URL, which the plugin leaves alone. */
export function isExternalUrl(url: string): boolean {
  return HTTP_URL.test(url);
}

/**
 * Returns how many characters of the raw `path` spell `prefix` once percent-decoded, or -1 when
 * the path does not start with it. The rest of the path is not decoded.
 */
export function rawPrefixLength(path: string, prefix: string): number {
  if (prefix.length === 0) {
    return 0;
  }
  let index = 0;
  let decoded = '';
  while (index < path.length) {
    let length = 1;
    let character: string;
    if (path[index] === '%') {
      // A percent-encoded UTF-8 character takes up to four byte triplets.
      length = 3;
      for (;;) {
        try {
          character = decodeURI(path.slice(index, index + length));
          break;
        } catch (error) {
          if (length === 12 || path[index + length] !== '%') {
            throw error;
          }
          length += 3;
        }
      }
    } else {
      length = (path.codePointAt(index) ?? 0) > 0xffff ? 2 : 1;
      character = path.slice(index, index + length);
    }
    decoded += character;
    index += length;
    if (decoded === prefix) {
      return index;
    }
    if (decoded.length >= prefix.length) {
      return -1;
    }
  }
  return -1;
}

/** Rejects a destination that is absolute, starts with `//` or has a `..` segment once decoded. */
function validateDestination(dest: string): void {
  const reference = dest
    .replaceAll('\t', '')
    .replaceAll('\n', '')
    .replaceAll('\r', '')
    .replaceAll('\0', '')
    .trimStart()
    .replaceAll('\\', '/');
  if (ABSOLUTE_URL.test(reference) || reference.startsWith('//')) {
    throw invalidDestination();
  }
  let decoded: string;
  try {
    decoded = decodeURIComponent(reference);
  } catch {
    throw invalidDestination();
  }
  if (decoded.replaceAll('\\', '/').split('/').includes('..')) {
    throw invalidDestination();
  }
}

/**
 * Checks that `dest` resolves to a path at or below `rewritePrefix` on `upstream`, and raises
 * the plugin's 400 error otherwise.
 */
export function checkDestination(dest: string, rewritePrefix: string, upstream: string): void {
  validateDestination(dest);
  const base = new URL(upstream || PLACEHOLDER_ORIGIN);
  const target = new URL(dest, base);
  const prefix = new URL(rewritePrefix, base);
  const boundary = prefix.pathname.endsWith('/') ? prefix.pathname : `${prefix.pathname}/`;
  const within = target.pathname === prefix.pathname || target.pathname.startsWith(boundary);
  if (target.origin !== base.origin || prefix.origin !== base.origin || !within) {
    throw invalidDestination();
  }
}
