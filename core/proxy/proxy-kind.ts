import { readFileSync } from 'node:fs';
import type { IncomingHttpHeaders } from 'node:http';
import { resolve } from 'node:path';
import httpProxy, { type FastifyHttpProxyOptions } from '@fastify/http-proxy';
import type {
  FastifyInstance,
  FastifyReply,
  FastifyRequest,
  HookHandlerDoneFunction,
} from 'fastify';
import { type Dispatcher, Pool } from 'undici';
import type { RouteConfig } from '../config/types.js';
import { durationSchema, parseDuration, parseSize, sizeSchema } from '../config/units.js';
import { errorBody } from '../errors.js';
import type { JsonSchema } from '../plugin-api.js';
import type { RouteKind, RouteRuntime } from '../routes/kind.js';
import { checkTargetUserinfo } from '../routes/target.js';
import { enforceBodyLimit } from './body-limit.js';
import { createForwarder, type ForwardHooks, fastPathHandler } from './forward.js';
import { setForwardedHeaders, stripHopByHop } from './headers.js';
import { canShareProxyRoute, registerProxyTable } from './proxy-table.js';
import { retryDelayFor } from './retry.js';
import { hasDotSegment } from './traversal.js';
import {
  checkWebSocketKeys,
  registerWebSocketHandling,
  webSocketRouteProperties,
} from './websocket.js';

/** The matching rule of a route path. */
export interface RouteMatch {
  /** Prefix without a trailing `/` or `*`; empty for the root. */
  prefix: string;
  /** True for `/api/v1*`, a plain prefix that also matches `/api/v10`. */
  plainPrefix: boolean;
}

/**
 * Parses a route path. `/api/v1` and `/api/v1/*` match `/api/v1` and everything below it but not
 * `/api/v10`; a `*` right after other characters (`/api/v1*`) is a plain string prefix.
 */
export function parseRoutePath(path: string): RouteMatch {
  if (path.endsWith('/*') || path === '*') {
    return { prefix: path.slice(0, -2).replace(/\/+$/, ''), plainPrefix: false };
  }
  if (path.endsWith('*')) {
    return { prefix: path.slice(0, -1), plainPrefix: true };
  }
  return { prefix: path.replace(/\/+$/, ''), plainPrefix: false };
}

/** Proxy route options after defaults. */
export interface ProxyOptions {
  target: URL;
  timeoutMs: number;
  retries: number;
  stripPath: boolean;
  preserveHost: boolean;
  bodyLimit?: number;
  connections: number;
  tlsVerify: boolean;
  tlsCa?: string;
}

/** Reads a proxy route's options, applying `DEFAULT_TIMEOUT` and `MAX_RETRIES` defaults. */
export function proxyOptions(route: RouteConfig, runtime: RouteRuntime): ProxyOptions {
  const raw = route.raw;
  const tls = (raw.tls ?? {}) as { verify?: boolean; ca?: string };
  return {
    target: new URL(raw.target as string),
    timeoutMs:
      raw.timeout === undefined
        ? runtime.config.defaultTimeout
        : parseDuration(raw.timeout as number | string),
    retries: (raw.retries as number | undefined) ?? runtime.config.defaultRetries,
    stripPath: (raw.strip_path as boolean | undefined) ?? true,
    preserveHost: (raw.preserve_host as boolean | undefined) ?? false,
    bodyLimit:
      raw.body_limit === undefined ? undefined : parseSize(raw.body_limit as string | number),
    connections: (raw.connections as number | undefined) ?? 128,
    tlsVerify: tls.verify ?? true,
    tlsCa: tls.ca ? readFileSync(resolve(runtime.config.dir, tls.ca), 'utf8') : undefined,
  };
}

const proxyProperties: Record<string, JsonSchema> = {
  target: {
    type: 'string',
    pattern: '^https?://[^\\s/?#]+(/[^\\s?#]*)?$',
    'x-expected':
      'an http:// or https:// URL without a query or fragment, such as http://127.0.0.1:3000',
  },
  timeout: durationSchema,
  retries: { type: 'integer', minimum: 0, maximum: 10 },
  strip_path: { type: 'boolean' },
  preserve_host: { type: 'boolean' },
  body_limit: sizeSchema,
  connections: { type: 'integer', minimum: 1, maximum: 4096 },
  tls: {
    type: 'object',
    additionalProperties: false,
    properties: { verify: { type: 'boolean' }, ca: { type: 'string', minLength: 1 } },
  },
};

/** The default route kind: forwards requests to `target` through @fastify/http-proxy. */
export const proxyRouteKind: RouteKind = {
  name: 'proxy',
  schema(common) {
    return {
      type: 'object',
      additionalProperties: false,
      required: ['path', 'target'],
      properties: { ...common, ...proxyProperties, ...webSocketRouteProperties },
    };
  },
  check: (raw) => [...checkTargetUserinfo(raw), ...checkWebSocketKeys(raw)],
  scopePrefix(route) {
    const match = parseRoutePath(route.path);
    return match.plainPrefix ? '' : match.prefix;
  },
  canShare: canShareProxyRoute,
  registerShared: registerProxyTable,
  // NOTE: a route registered here costs about 36 KiB of heap (a 2,000-route gateway, measured),
  // half of it in find-my-way's trees for seven methods. Routes in the shared table cost about
  // 2.5 KiB, so only routes with policies, WebSocket or a body limit pay the full cost.
  async register(scope, route, runtime) {
    const options = proxyOptions(route, runtime);
    const match = parseRoutePath(route.path);
    const pool = lazyPool(options);
    runtime.onClose(() => pool.destroy());
    scope.addHook('onRequest', rejectUnsafePaths(route.path, hasNestedRoutes(route, runtime)));
    if (options.bodyLimit !== undefined) {
      scope.addHook('preHandler', enforceBodyLimit(options.bodyLimit, route.path));
    }
    if (!match.plainPrefix && match.prefix !== '') {
      useFastPath(scope, match, options, pool.get);
    }
    const webSocket = registerWebSocketHandling(scope, route, runtime, { match, options });
    // The unwrapped plugin function runs in the route's own scope, which already carries the
    // route prefix. Registering it would add a scope of its own, and every Fastify scope costs
    // hooks, a schema controller and Request and Reply classes, several kilobytes per route.
    await httpProxy.fastifyHttpProxy(
      scope,
      { ...buildProxySettings(route, match, options, pool.get), ...webSocket },
      () => {},
    );
  },
};

// A callback hook, not an async one: it runs on every request, and a promise per request costs
// throughput while the check itself is synchronous.
function rejectUnsafePaths(routePath: string, nested: boolean) {
  return (request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction) => {
    const url = request.raw.url ?? '/';
    const query = url.indexOf('?');
    if (!rejectedUnsafePath(query === -1 ? url : url.slice(0, query), reply, routePath, nested)) {
      done();
    }
  };
}

/**
 * Tells whether another route of the config lies below `route`'s prefix, such as `/api/admin`
 * below `/api`. Requests to such a route must not reach the one below through slashes that an
 * upstream merges or decodes.
 */
export function hasNestedRoutes(route: RouteConfig, runtime: RouteRuntime): boolean {
  const own = parseRoutePath(route.path);
  const routes = runtime.config.routes;
  if (own.plainPrefix || own.prefix === '') {
    // Rare enough that a scan of every route costs nothing at start-up.
    return routes.some((other) => {
      const { prefix } = parseRoutePath(other.path);
      return other !== route && prefix !== own.prefix && prefix.startsWith(own.prefix);
    });
  }
  return ancestorsOf(routes).has(own.prefix);
}

const ancestorsByList = new WeakMap<readonly RouteConfig[], Set<string>>();

/** Returns every proper prefix, at a segment boundary, of every route prefix in `routes`. */
function ancestorsOf(routes: readonly RouteConfig[]): Set<string> {
  let ancestors = ancestorsByList.get(routes);
  if (!ancestors) {
    ancestors = new Set();
    for (const other of routes) {
      const { prefix } = parseRoutePath(other.path);
      for (
        let slash = prefix.lastIndexOf('/');
        slash > 0;
        slash = prefix.lastIndexOf('/', slash - 1)
      ) {
        ancestors.add(prefix.slice(0, slash));
      }
    }
    ancestorsByList.set(routes, ancestors);
  }
  return ancestors;
}

/** A backslash, plain or percent-encoded once or more (`%5c`, `%255c`). */
const BACKSLASH = /\\|%(25)*5c/i;

/** A slash percent-encoded once or more (`%2f`, `%252f`). */
const ENCODED_SLASH = /%(25)*2f/i;

/**
 * Responds 400 to a path with a `.` or `..` segment or a backslash in any encoding, and returns
 * whether it did. On a route with routes below it (`nested`), `//` and encoded slashes get 400
 * too. The router reads these as part of one segment, while an upstream may read them as `/`,
 * so such a path could reach a route whose policies it never passed.
 */
export function rejectedUnsafePath(
  path: string,
  reply: FastifyReply,
  routePath: string,
  nested: boolean,
): boolean {
  let reason: string | undefined;
  if (BACKSLASH.test(path)) {
    reason = 'path contains a backslash, which proxy routes do not forward';
  } else if (nested && (path.includes('//') || ENCODED_SLASH.test(path))) {
    // The router keeps `/api//admin` and `/api/admin%2fx` on `/api`, while an upstream that
    // merges or decodes slashes would serve them as `/api/admin`, past that route's policies.
    reason =
      'path contains "//" or an encoded "/", which could reach a route below this one upstream';
  } else if ((path.includes('.') || path.includes('%')) && hasDotSegment(path)) {
    reason = 'path contains a "." or ".." segment, which proxy routes do not forward';
  }
  if (!reason) {
    return false;
  }
  reply.request.log.warn({ route: routePath }, 'rejected an unsafe path');
  reply.code(400).send(errorBody('PACTOWN_ERR_PATH_TRAVERSAL', reason, routePath));
  return true;
}

/**
 * Returns the route's keep-alive pool to its target, created on the first request, so that a gateway
 * with thousands of routes starts without building thousands of pools.
 */
export function lazyPool(options: ProxyOptions) {
  let pool: Pool | undefined;
  return {
    get: (): Dispatcher => {
      pool ??= new Pool(options.target.origin, {
        connections: options.connections,
        pipelining: 1,
        keepAliveTimeout: 60_000,
        headersTimeout: options.timeoutMs,
        bodyTimeout: options.timeoutMs,
        connect: { rejectUnauthorized: options.tlsVerify, ca: options.tlsCa },
      });
      return pool;
    },
    destroy: async () => {
      await pool?.destroy();
    },
  };
}

/**
 * The Fastify routes @fastify/http-proxy registers. Its default, `/` and `/*` below the prefix,
 * becomes three routes (`/api`, `/api/` and `/api/*`), each in seven method trees of
 * find-my-way. Because `/api/*` already matches `/api/`, a prefixed route registers only the
 * other two, which saves a third of the router memory per route.
 */
function proxyRoutePaths(match: RouteMatch): string[] | undefined {
  if (match.plainPrefix) {
    return [`${match.prefix}*`];
  }
  return match.prefix === '' ? undefined : ['', '/*'];
}

/** Wraps the handlers of the two routes that @fastify/http-proxy adds below `match.prefix`. */
function useFastPath(
  inner: FastifyInstance,
  match: RouteMatch,
  options: ProxyOptions,
  dispatcher: () => Dispatcher,
): void {
  const forward = createForwarder(dispatcher, options.target);
  const urls = new Set([match.prefix, `${match.prefix}/*`]);
  const rewritePrefix = rewritePrefixOf(match, options);
  inner.addHook('onRoute', (routeOptions) => {
    if (urls.has(routeOptions.url ?? '')) {
      routeOptions.handler = fastPathHandler(
        routeOptions.handler as Parameters<typeof fastPathHandler>[0],
        match.prefix,
        rewritePrefix,
        forward,
      ) as typeof routeOptions.handler;
    }
  });
}

/** Returns the `rewritePrefix` for @fastify/http-proxy: where the route's paths go upstream. */
export function rewritePrefixOf(match: RouteMatch, options: ProxyOptions): string {
  const targetPath = options.target.pathname;
  const prefix = options.stripPath ? targetPath : joinPaths(targetPath, match.prefix);
  return prefix || '/';
}

/** Drops the query string before @fastify/http-proxy parses and re-serialises it; see below. */
function withoutQuery(url: string): string {
  const index = url.indexOf('?');
  return index === -1 ? url : url.slice(0, index);
}

function buildProxySettings(
  route: RouteConfig,
  match: RouteMatch,
  options: ProxyOptions,
  dispatcher: () => Dispatcher,
): FastifyHttpProxyOptions {
  return {
    upstream: options.target.origin,
    rewritePrefix: rewritePrefixOf(match, options),
    routes: proxyRoutePaths(match),
    // The query string goes upstream verbatim through `queryString` below, so http-proxy's own
    // parse and re-serialisation of it is skipped.
    preRewrite: match.plainPrefix
      ? (url: string) => stripPlainPrefix(match.prefix, options.stripPath)(withoutQuery(url))
      : withoutQuery,
    disableRequestLogging: true,
    // http-proxy maps the path and checks it; the forwarder sends it. reply.from() also stays
    // usable and goes through the same pool, so reply-from creates no undici Agent of its own.
    handler: createForwarder(dispatcher, options.target),
    // With an undici instance given, reply-from needs no node:http Agents; without this flag it
    // would still create two per route.
    globalAgent: true,
    undici: {
      request: (
        request: Dispatcher.RequestOptions,
        callback: (error: Error | null, data: Dispatcher.ResponseData) => void,
      ) => dispatcher().request(request, callback),
    },
    replyOptions: replyOptionsFor(route, options),
    // The reply types of @fastify/reply-from's callbacks cover HTTP/2 servers, which routes never use.
  } as unknown as FastifyHttpProxyOptions;
}

/**
 * Returns the @fastify/reply-from reply options of a route: timeout, query string, request and
 * response header rewriting, retries and the error response.
 */
export function replyOptionsFor(route: RouteConfig, options: ProxyOptions): ForwardHooks {
  return {
    timeout: options.timeoutMs,
    queryString: (_search: string | undefined, url: string) => {
      const index = url.indexOf('?');
      return index === -1 ? '' : url.slice(index + 1);
    },
    rewriteRequestHeaders: (request: FastifyRequest, headers: IncomingHttpHeaders) => {
      stripHopByHop(headers);
      setForwardedHeaders(request, headers);
      if (options.preserveHost && request.headers.host) {
        headers.host = request.headers.host;
      }
      return headers;
    },
    rewriteHeaders: (headers: IncomingHttpHeaders) => stripHopByHop(headers),
    retryDelay: retryDelayFor(options.retries),
    onError: (reply: FastifyReply, { error }: { error: Error & { code?: string } }) =>
      sendUpstreamError(reply, error, route.path),
  };
}

function stripPlainPrefix(prefix: string, strip: boolean) {
  return (url: string) => {
    if (!strip || !url.startsWith(prefix)) {
      return url;
    }
    const rest = url.slice(prefix.length);
    return rest.startsWith('/') ? rest : `/${rest}`;
  };
}

const TIMEOUT_CODES = new Set([
  'FST_REPLY_FROM_GATEWAY_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_CONNECT_TIMEOUT',
  'FST_REPLY_FROM_CONNECT_TIMEOUT',
]);

/** Returns `error`, or the first of its causes, that is a request body grown past its limit. */
function bodyTooLarge(error: unknown): Error | undefined {
  for (let current = error; current; current = (current as Error).cause) {
    if ((current as { code?: string }).code === 'PACTOWN_ERR_BODY_TOO_LARGE') {
      return current as Error;
    }
  }
  return undefined;
}

export function sendUpstreamError(
  reply: FastifyReply,
  error: Error & { code?: string },
  route: string,
) {
  const tooLarge = bodyTooLarge(error);
  if (tooLarge) {
    reply.request.log.warn({ route }, 'rejected a streamed body over the limit');
    reply.code(413).header('connection', 'close');
    // The error names the limit in bytes, as the 413 to a declared Content-Length does.
    reply.send(errorBody('PACTOWN_ERR_BODY_TOO_LARGE', tooLarge.message, route));
    return;
  }
  const cause = (error.cause ?? {}) as { code?: string; message?: string };
  const timedOut = TIMEOUT_CODES.has(error.code ?? '') || TIMEOUT_CODES.has(cause.code ?? '');
  const code = timedOut ? 'PACTOWN_ERR_UPSTREAM_TIMEOUT' : 'PACTOWN_ERR_UPSTREAM_UNAVAILABLE';
  const status = timedOut ? 504 : 502;
  const detail = cause.code ?? error.code ?? error.message;
  // Retries are not logged one by one: the single failure line counts them.
  const { attempts } = error as { attempts?: number };
  reply.request.log.error({ route, code, cause: detail, attempts }, 'upstream request failed');
  reply.code(status).header('content-type', 'application/json; charset=utf-8');
  reply.send(
    errorBody(
      code,
      timedOut ? 'upstream did not respond in time' : `upstream request failed (${detail})`,
      route,
    ),
  );
}

function joinPaths(base: string, path: string): string {
  return `${base.replace(/\/+$/, '')}${path}`;
}
