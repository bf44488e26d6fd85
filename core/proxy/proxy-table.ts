import type { IncomingHttpHeaders } from 'node:http';
import { sanitizeHeaders } from '@fastify/http-proxy/utils.js';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { RouteConfig } from '../config/types.js';
import type { RouteRuntime } from '../routes/kind.js';
import { createForwarder, FAST_PATH, type ForwardHooks } from './forward.js';
import { checkDestination, isExternalUrl, rawPrefixLength } from './http-proxy-paths.js';
import {
  hasNestedRoutes,
  lazyPool,
  parseRoutePath,
  proxyOptions,
  type RouteMatch,
  rejectedUnsafePath,
  replyOptionsFor,
  rewritePrefixOf,
} from './proxy-kind.js';
import { hasWebSocketRoutes, rejectedUpgrade } from './websocket.js';

/** The methods that @fastify/http-proxy registers for a route, and the shared table with it. */
const METHODS = ['DELETE', 'GET', 'HEAD', 'PATCH', 'POST', 'PUT', 'OPTIONS'];

/** A route prefix made of plain segments only: no parameters, wildcards or percent signs. */
const PLAIN_PREFIX = /^(\/[A-Za-z0-9\-_~!$&'()+,;=@.]+)+$/;

/** One route of the shared table. */
interface TableEntry {
  /** The route path as the config writes it. */
  path: string;
  prefix: string;
  /** Upstream path prefix of the route, without a trailing `/`, as the plugin maps it. */
  rewritePrefix: string;
  origin: string;
  /** Whether another route lies below this one's prefix. */
  nested: boolean;
  forward: ReturnType<typeof createForwarder>;
  hooks: ForwardHooks;
}

/**
 * Tells whether a proxy route needs nothing of its own from Fastify: no policies, no WebSocket,
 * no body limit, and a prefix of plain segments.
 */
function standalone(route: RouteConfig): boolean {
  if (route.kind !== 'proxy' || route.policies.length > 0) {
    return false;
  }
  if (route.raw.websocket === true || route.raw.body_limit !== undefined) {
    return false;
  }
  const match = parseRoutePath(route.path);
  return (
    !match.plainPrefix &&
    PLAIN_PREFIX.test(match.prefix) &&
    !match.prefix.split('/').some((segment) => segment === '.' || segment === '..')
  );
}

/** Tells whether requests below `prefix` can match the route `other` in Fastify's router. */
function covers(other: RouteMatch, prefix: string): boolean {
  if (other.plainPrefix || other.prefix === '') {
    return prefix.startsWith(other.prefix);
  }
  return prefix === other.prefix || prefix.startsWith(`${other.prefix}/`);
}

const ownRoutesByList = new WeakMap<readonly RouteConfig[], RouteMatch[]>();

/**
 * Tells whether the shared table can serve `route`. It cannot when another route of any kind
 * keeps Fastify routes of its own at or above `route`'s path, because Fastify's router could
 * send the requests to that route.
 */
export function canShareProxyRoute(route: RouteConfig, routes: readonly RouteConfig[]): boolean {
  if (!standalone(route)) {
    return false;
  }
  let own = ownRoutesByList.get(routes);
  if (!own) {
    // Routes of every kind count, since a webhook or community route may register wildcards.
    own = routes
      .filter((candidate) => !standalone(candidate))
      .map((candidate) => parseRoutePath(candidate.path));
    ownRoutesByList.set(routes, own);
  }
  const { prefix } = parseRoutePath(route.path);
  return !own.some((other) => covers(other, prefix));
}

/**
 * Serves plain proxy routes from one wildcard Fastify route and a map of prefixes. Each route
 * keeps its own pool, options and error responses, and paths map and are checked as
 * @fastify/http-proxy maps and checks them, while the router keeps one route in place of two
 * per config route in seven method trees.
 */
export async function registerProxyTable(
  scope: FastifyInstance,
  routes: RouteConfig[],
  runtime: RouteRuntime,
): Promise<void> {
  const entries = new Map<string, TableEntry>();
  let depth = 0;
  for (const route of routes) {
    const entry = tableEntry(route, runtime);
    entries.set(entry.prefix, entry);
    depth = Math.max(depth, entry.prefix.split('/').length - 1);
  }
  const checkUpgrades = hasWebSocketRoutes(runtime);
  // Bodies stream to the upstream unparsed, as they do through the plugin.
  const passThrough = (
    _request: unknown,
    payload: unknown,
    done: (error: null, body: unknown) => void,
  ) => done(null, payload);
  scope.addContentTypeParser('application/json', passThrough);
  scope.addContentTypeParser('*', passThrough);
  scope.route({
    method: METHODS,
    url: '/*',
    handler(request, reply) {
      const url = request.raw.url ?? '/';
      const query = url.indexOf('?');
      const path = query === -1 ? url : url.slice(0, query);
      const entry = findEntry(entries, depth, path);
      if (!entry) {
        reply.callNotFound();
        return;
      }
      request.pactownRoute = entry.path;
      if (rejectedUnsafePath(path, reply, entry.path, entry.nested)) {
        return;
      }
      if (checkUpgrades && rejectedUpgrade(request, reply, entry.path)) {
        return;
      }
      entry.forward(request, reply, destination(entry, path, request), entry.hooks);
    },
  });
}

function tableEntry(route: RouteConfig, runtime: RouteRuntime): TableEntry {
  const options = proxyOptions(route, runtime);
  const match = parseRoutePath(route.path);
  const pool = lazyPool(options);
  runtime.onClose(() => pool.destroy());
  const mapped = rewritePrefixOf(match, options);
  const rewritePrefix = mapped.endsWith('/') ? mapped.slice(0, -1) : mapped;
  const replyOptions = replyOptionsFor(route, options);
  const ownRewrite = replyOptions.rewriteHeaders;
  return {
    path: route.path,
    prefix: match.prefix,
    rewritePrefix,
    origin: options.target.origin,
    nested: hasNestedRoutes(route, runtime),
    forward: createForwarder(pool.get, options.target),
    hooks: {
      ...replyOptions,
      // The plugin's own wrapper: Location rewritten back to the route prefix, then the route's
      // rewrite, then header values made safe for Node.
      rewriteHeaders: (headers: IncomingHttpHeaders, request: FastifyRequest) => {
        const location = headers.location;
        if (location && !isExternalUrl(location)) {
          headers.location = location.replace(rewritePrefix, match.prefix);
        }
        return sanitizeHeaders(ownRewrite ? ownRewrite(headers, request) : headers);
      },
    },
  };
}

/**
 * Finds the route with the longest prefix that ends at a segment boundary of `rawPath`, matched
 * on the decoded path as Fastify's router matches it. Only the first `depth` segments can hold
 * a prefix, so a path of thousands of segments costs no more than a short one.
 */
function findEntry(
  entries: Map<string, TableEntry>,
  depth: number,
  rawPath: string,
): TableEntry | undefined {
  let path = rawPath;
  if (path.includes('%')) {
    try {
      path = decodeURI(path);
    } catch {
      return undefined;
    }
  }
  const ends: number[] = [];
  for (let index = 0; ends.length < depth; ) {
    const next = path.indexOf('/', index + 1);
    if (next === -1) {
      ends.push(path.length);
      break;
    }
    ends.push(next);
    index = next;
  }
  for (let candidate = ends.length - 1; candidate >= 0; candidate--) {
    const entry = entries.get(path.slice(0, ends[candidate]));
    if (entry) {
      return entry;
    }
  }
  return undefined;
}

/** Maps a request path to the upstream path, raising the plugin's 400 for one that escapes. */
function destination(entry: TableEntry, path: string, request: FastifyRequest): string {
  const rest = path.slice(entry.prefix.length);
  const plain =
    path.startsWith(entry.prefix) &&
    (rest === '' || rest.charCodeAt(0) === 47) &&
    !rest.includes('//') &&
    FAST_PATH.test(rest) &&
    request.headers.upgrade === undefined;
  if (plain) {
    return entry.rewritePrefix + rest || '/';
  }
  const length = rawPrefixLength(path, entry.prefix);
  const dest = (length === -1 ? path : entry.rewritePrefix + path.slice(length)) || '/';
  checkDestination(dest, entry.rewritePrefix, entry.origin);
  return dest;
}
