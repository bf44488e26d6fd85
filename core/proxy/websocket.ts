import type { IncomingMessage, Server } from 'node:http';
import type { Socket } from 'node:net';
import type {
  FastifyInstance,
  FastifyReply,
  FastifyRequest,
  HookHandlerDoneFunction,
} from 'fastify';
import { type ServerOptions, WebSocketServer } from 'ws';
import type { RouteConfig } from '../config/types.js';
import { durationSchema, parseDuration, parseSize, sizeSchema } from '../config/units.js';
import { errorBody } from '../errors.js';
import type { JsonSchema } from '../plugin-api.js';
import type { RouteIssue, RouteRuntime } from '../routes/kind.js';
import type { ProxyOptions, RouteMatch } from './proxy-kind.js';
import { WebSocketConnections } from './websocket-connections.js';
import { WEBSOCKET_ERROR_CODES } from './websocket-errors.js';
import { WebSocketLink } from './websocket-link.js';
import {
  isUpgradeRequest,
  type OpenUpstream,
  openUpstream,
  readHandshake,
  toWebSocketUrl,
  type UpstreamOutcome,
  type UpstreamRequest,
  upstreamHeaders,
} from './websocket-upstream.js';

/** Default `ws_max_message_size`: 1 MiB. */
const DEFAULT_MAX_MESSAGE_SIZE = 1024 * 1024;
/** Default `ws_idle_timeout`: 5 minutes. */
const DEFAULT_IDLE_TIMEOUT_MS = 300_000;
/** Milliseconds a peer has to respond to a close frame before its connection is destroyed. */
const CLOSE_TIMEOUT_MS = 5000;
const EMPTY_HEAD = Buffer.alloc(0);

/** Route keys of a proxy route that proxies WebSocket upgrades. */
export const webSocketRouteProperties: Record<string, JsonSchema> = {
  websocket: { type: 'boolean' },
  ws_target: {
    type: 'string',
    pattern: '^(wss?|https?)://[^\\s/?#]+(/[^\\s?#]*)?$',
    'x-expected': 'a ws://, wss://, http:// or https:// URL such as ws://127.0.0.1:3001',
  },
  ws_max_message_size: sizeSchema,
  ws_idle_timeout: durationSchema,
  ws_max_connections: { type: 'integer', minimum: 1 },
};

const WEBSOCKET_ONLY_KEYS = [
  'ws_target',
  'ws_max_message_size',
  'ws_idle_timeout',
  'ws_max_connections',
];

/** WebSocket settings of a route with `websocket: true`, after defaults. */
export interface WebSocketSettings {
  /** The `ws://` or `wss://` base URL that upgrades go to. */
  target: URL;
  /** Bytes; a larger message in either direction closes the connection with 1009. */
  maxMessageSize: number;
  /** Milliseconds without a frame in either direction; 0 never closes an idle connection. */
  idleTimeoutMs: number;
  /** Open connections allowed on the route; undefined for no limit. */
  maxConnections?: number;
}

/** Reads the WebSocket keys of a proxy route; undefined unless the route has `websocket: true`. */
export function webSocketSettings(
  route: RouteConfig,
  proxy: ProxyOptions,
): WebSocketSettings | undefined {
  const raw = route.raw;
  if (raw.websocket !== true) {
    return undefined;
  }
  return {
    target: toWebSocketUrl(raw.ws_target ? new URL(raw.ws_target as string) : proxy.target),
    maxMessageSize:
      raw.ws_max_message_size === undefined
        ? DEFAULT_MAX_MESSAGE_SIZE
        : parseSize(raw.ws_max_message_size as number | string),
    idleTimeoutMs:
      raw.ws_idle_timeout === undefined
        ? DEFAULT_IDLE_TIMEOUT_MS
        : parseDuration(raw.ws_idle_timeout as number | string),
    maxConnections: raw.ws_max_connections as number | undefined,
  };
}

/** Finds WebSocket keys that cannot take effect: `ws_*` keys without `websocket: true`. */
export function checkWebSocketKeys(raw: Record<string, unknown>): RouteIssue[] {
  const issues: RouteIssue[] = [];
  for (const key of WEBSOCKET_ONLY_KEYS) {
    if (raw[key] !== undefined && raw.websocket !== true) {
      issues.push({
        path: [key],
        message: `${key} applies only to a route with websocket: true; add websocket: true or remove ${key}`,
      });
    }
  }
  if (raw.ws_max_message_size !== undefined && raw.websocket === true) {
    const size = parseSize(raw.ws_max_message_size as number | string);
    if (size < 1) {
      issues.push({
        path: ['ws_max_message_size'],
        message: 'ws_max_message_size must be at least 1 byte, such as 64kb or 1mb',
      });
    }
  }
  return issues;
}

/** The path match and options of a proxy route, as proxy-kind.ts computed them. */
export interface ProxyMapping {
  match: RouteMatch;
  options: ProxyOptions;
}

/**
 * Adds WebSocket handling to a proxy route's inner scope and returns the @fastify/http-proxy
 * settings it needs. A route with `websocket: true` proxies upgrades once the route's policies
 * have passed them. When some route of the gateway has `websocket: true`, every other proxy route
 * rejects upgrades with 400. Without such a route, Node serves upgrade requests as ordinary ones.
 */
export function registerWebSocketHandling(
  scope: FastifyInstance,
  route: RouteConfig,
  runtime: RouteRuntime,
  mapping: ProxyMapping,
): { websocket?: true } {
  const settings = webSocketSettings(route, mapping.options);
  if (!settings) {
    if (hasWebSocketRoutes(runtime)) {
      scope.addHook('onRequest', rejectUpgrade(route.path));
    }
    return {};
  }
  guardUpgradeSockets(scope.server);
  const connections = connectionsFor(runtime, scope);
  runtime.stats.increment('websockets_open', route.path, 0);
  runtime.stats.increment('websockets_total', route.path, 0);
  const proxy = new UpgradeProxy(route, runtime, mapping, settings, connections, scope.prefix);
  scope.addHook('preHandler', proxy.hook);
  // @fastify/http-proxy's upgrade listener sends the upgrade through the router, so the route's
  // hooks run before the preHandler above takes the socket. The plugin's own handler never runs
  // for an upgrade, because the preHandler hijacks the reply.
  return { websocket: true };
}

const webSocketRoutesByRuntime = new WeakMap<RouteRuntime, boolean>();

/** Checks whether any route of the gateway has `websocket: true`, once per gateway. */
export function hasWebSocketRoutes(runtime: RouteRuntime): boolean {
  let found = webSocketRoutesByRuntime.get(runtime);
  if (found === undefined) {
    found = runtime.config.routes.some((route) => route.raw.websocket === true);
    webSocketRoutesByRuntime.set(runtime, found);
  }
  return found;
}

function rejectUpgrade(routePath: string) {
  return (request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction) => {
    if (!rejectedUpgrade(request, reply, routePath)) {
      done();
    }
  };
}

/** Rejects an upgrade request on a route without `websocket: true`, and returns whether it did. */
export function rejectedUpgrade(
  request: FastifyRequest,
  reply: FastifyReply,
  routePath: string,
): boolean {
  if (!isUpgradeRequest(request)) {
    return false;
  }
  request.log.warn({ route: routePath }, 'rejected an upgrade on a route without websocket');
  const code = 'PACTOWN_ERR_WEBSOCKET_NOT_ENABLED';
  reply
    .code(WEBSOCKET_ERROR_CODES[code].status)
    .send(
      errorBody(
        code,
        'route does not accept WebSocket upgrades; set websocket: true on the route to proxy them',
        routePath,
      ),
    );
  return true;
}

const guardedServers = new WeakSet<Server>();

/**
 * Node removes its own `error` listener from a socket when it emits `upgrade`, so a client that
 * resets the connection while the route's policies run would crash the process. A listener on
 * every connection keeps such errors harmless, and the socket is destroyed as usual.
 */
function guardUpgradeSockets(server: Server): void {
  if (!guardedServers.has(server)) {
    guardedServers.add(server);
    server.on('connection', (socket: Socket) => socket.on('error', ignoreSocketError));
  }
}

function ignoreSocketError(): void {}

const connectionsByRuntime = new WeakMap<RouteRuntime, WebSocketConnections>();

/**
 * Returns the connections of the gateway that `runtime` belongs to. The first call creates them
 * and adds the hook that closes them at shutdown.
 */
function connectionsFor(runtime: RouteRuntime, scope: FastifyInstance): WebSocketConnections {
  let connections = connectionsByRuntime.get(runtime);
  if (!connections) {
    const created = new WebSocketConnections();
    connections = created;
    connectionsByRuntime.set(runtime, created);
    // preClose runs before Fastify closes the server; shutdown then waits for in-flight HTTP
    // requests by itself, so the hook does not hold up server.close().
    scope.addHook('preClose', (done) => {
      created
        .shutdown(scope.server, runtime.config.server.shutdownTimeout, scope.log)
        .catch((error: Error) =>
          scope.log.error({ err: error }, 'closing websocket connections failed'),
        );
      done();
    });
  }
  return connections;
}

/** Values the client's 101 response takes from the upstream's. */
interface AcceptedHandshake {
  protocol?: string;
  headers: string[];
}

type ReplyWithFromParameters = FastifyReply & {
  fromParameters(url: string, params?: unknown, prefix?: string): { url: string };
};

/** Proxies the upgrades of one route: checks, upstream handshake, then the client's 101. */
class UpgradeProxy {
  private readonly server: WebSocketServer;
  private readonly accepted = new WeakMap<IncomingMessage, AcceptedHandshake>();

  constructor(
    private readonly route: RouteConfig,
    private readonly runtime: RouteRuntime,
    private readonly mapping: ProxyMapping,
    private readonly settings: WebSocketSettings,
    private readonly connections: WebSocketConnections,
    private readonly prefix: string,
  ) {
    const options: ServerOptions & { closeTimeout: number } = {
      noServer: true,
      clientTracking: false,
      maxPayload: settings.maxMessageSize,
      closeTimeout: CLOSE_TIMEOUT_MS,
      perMessageDeflate: false,
      autoPong: false,
      handleProtocols: (_offered, request) => this.accepted.get(request)?.protocol ?? false,
    };
    this.server = new WebSocketServer(options);
    this.server.on('headers', (headers, request) => {
      headers.push(...(this.accepted.get(request)?.headers ?? []));
    });
  }

  readonly hook = (request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction) => {
    if (!isUpgradeRequest(request)) {
      done();
      return;
    }
    this.proxy(request, reply).catch((error: Error) => done(error));
  };

  private async proxy(request: FastifyRequest, reply: FastifyReply): Promise<void> {
    const socket = request.raw.socket;
    if (socket.destroyed) {
      // The client left while the route's policies ran.
      reply.hijack();
      return;
    }

    const handshake = readHandshake(request);
    if (!handshake.ok) {
      const { message, headers } = handshake.problem;
      request.log.warn({ route: this.route.path, reason: message }, 'rejected an upgrade');
      reply.headers(headers ?? {});
      this.sendError(reply, 'PACTOWN_ERR_WEBSOCKET_HANDSHAKE', message);
      return;
    }
    if (this.connections.closing) {
      this.sendShuttingDown(reply);
      return;
    }
    if (this.overConnectionLimit(request, reply)) {
      return;
    }

    this.connections.admit(socket, this.route.path);
    const attempt = this.connections.startHandshake(socket);
    const outcome = await openUpstream(
      this.upstreamRequest(request, reply, handshake.protocols),
      attempt.signal,
    );
    this.connections.finishHandshake(attempt);

    this.finish(request, reply, outcome);
  }

  /** Rejects the upgrade with 503 when the route has `ws_max_connections` open connections. */
  private overConnectionLimit(request: FastifyRequest, reply: FastifyReply): boolean {
    const limit = this.settings.maxConnections;
    if (limit === undefined || this.connections.count(this.route.path) < limit) {
      return false;
    }
    request.log.warn(
      { route: this.route.path, limit },
      'rejected an upgrade over ws_max_connections',
    );
    this.sendError(
      reply,
      'PACTOWN_ERR_WEBSOCKET_CONNECTION_LIMIT',
      `route already has ${limit} open WebSocket connections (ws_max_connections)`,
    );
    return true;
  }

  private upstreamRequest(
    request: FastifyRequest,
    reply: FastifyReply,
    protocols: string[],
  ): UpstreamRequest {
    const proxy = this.mapping.options;
    return {
      url: this.upstreamUrl(request, reply as ReplyWithFromParameters),
      protocols,
      headers: upstreamHeaders(request, proxy.preserveHost),
      timeoutMs: proxy.timeoutMs,
      maxMessageSize: this.settings.maxMessageSize,
      closeTimeoutMs: CLOSE_TIMEOUT_MS,
      tlsVerify: proxy.tlsVerify,
      tlsCa: proxy.tlsCa,
    };
  }

  private finish(request: FastifyRequest, reply: FastifyReply, outcome: UpstreamOutcome): void {
    const path = this.route.path;
    const socket = request.raw.socket;
    if (socket.destroyed) {
      if (outcome.kind === 'open') {
        outcome.socket.terminate();
      }
      reply.hijack();
      return;
    }
    if (outcome.kind === 'open' && this.connections.closing) {
      outcome.socket.terminate();
      this.sendShuttingDown(reply);
      return;
    }
    switch (outcome.kind) {
      case 'open':
        reply.hijack();
        this.accept(request, outcome);
        return;
      case 'response':
        request.log.info(
          { route: path, status: outcome.status },
          'upstream answered the upgrade without accepting it',
        );
        reply.code(outcome.status).headers(outcome.headers).send(outcome.body);
        return;
      case 'failed':
        this.sendUpstreamFailure(request, reply, outcome.timedOut, outcome.cause);
        return;
      case 'abandoned':
        this.sendShuttingDown(reply);
        return;
    }
  }

  /** Completes the client's handshake with what the upstream chose, then links the two. */
  private accept(request: FastifyRequest, upstream: OpenUpstream): void {
    const socket = request.raw.socket;
    const abandon = () => upstream.socket.terminate();
    socket.once('close', abandon);
    this.accepted.set(request.raw, {
      protocol: upstream.protocol,
      headers: upstream.responseHeaders,
    });
    // NOTE: bytes that arrived after the upgrade request's headers (the `head` that Node passes
    // to the upgrade listener) are not handed on, because @fastify/http-proxy keeps them to
    // itself. RFC 6455 section 4.1 forbids a client to send frames before the 101 response.
    try {
      this.server.handleUpgrade(request.raw, socket, EMPTY_HEAD, (client) => {
        socket.off('close', abandon);
        this.link(request, client, upstream.socket);
      });
    } catch (error) {
      request.log.error({ err: error, route: this.route.path }, 'websocket upgrade failed');
      socket.destroy();
    }
  }

  private link(
    request: FastifyRequest,
    client: WebSocketLink['client'],
    upstream: WebSocketLink['upstream'],
  ): void {
    const path = this.route.path;
    const stats = this.runtime.stats;
    const link = new WebSocketLink(client, upstream, {
      route: path,
      idleTimeoutMs: this.settings.idleTimeoutMs,
      log: request.log,
      onEnd: (ended) => {
        this.connections.remove(ended);
        stats.increment('websockets_open', path, -1);
        request.log.debug({ route: path }, 'websocket connection closed');
      },
    });
    this.connections.add(link);
    stats.increment('websockets_open', path);
    stats.increment('websockets_total', path);
    request.log.debug({ route: path, protocol: client.protocol }, 'websocket connection opened');
  }

  /**
   * Builds the upstream URL with the same path mapping as HTTP requests (prefix stripping, target
   * path), moved onto `ws_target`'s path when there is one, and the query string as received.
   */
  private upstreamUrl(request: FastifyRequest, reply: ReplyWithFromParameters): URL {
    const mapped = reply.fromParameters(request.url, request.params, this.prefix).url;
    const mappedPath = mapped.split('?', 1)[0];
    const targetBase = withoutTrailingSlash(this.mapping.options.target.pathname);
    const relative = mappedPath.startsWith(targetBase)
      ? mappedPath.slice(targetBase.length)
      : mappedPath;
    const url = new URL(this.settings.target.href);
    const path = withoutTrailingSlash(url.pathname) + relative;
    url.pathname = path === '' ? '/' : path;
    const raw = request.raw.url ?? '';
    const query = raw.indexOf('?');
    url.search = query === -1 ? '' : raw.slice(query);
    return url;
  }

  private sendUpstreamFailure(
    request: FastifyRequest,
    reply: FastifyReply,
    timedOut: boolean,
    cause: string,
  ): void {
    const code = timedOut ? 'PACTOWN_ERR_UPSTREAM_TIMEOUT' : 'PACTOWN_ERR_UPSTREAM_UNAVAILABLE';
    request.log.error(
      { route: this.route.path, code, cause },
      'upstream websocket handshake failed',
    );
    const message = timedOut
      ? 'upstream did not complete the WebSocket handshake in time'
      : `upstream WebSocket handshake failed (${cause})`;
    reply.code(timedOut ? 504 : 502).send(errorBody(code, message, this.route.path));
  }

  private sendError(
    reply: FastifyReply,
    code: keyof typeof WEBSOCKET_ERROR_CODES,
    message: string,
  ): void {
    reply.code(WEBSOCKET_ERROR_CODES[code].status).send(errorBody(code, message, this.route.path));
  }

  private sendShuttingDown(reply: FastifyReply): void {
    reply
      .code(503)
      .send(errorBody('PACTOWN_ERR_SHUTTING_DOWN', 'gateway is shutting down', this.route.path));
  }
}

function withoutTrailingSlash(path: string): string {
  return path.replace(/\/+$/, '');
}
