import type { IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { TestContext } from 'node:test';
import WebSocket, { type ClientOptions, WebSocketServer } from 'ws';
import { builtinLoadOptions } from '../cli/builtins.js';
import {
  createGateway,
  definePlugin,
  type Gateway,
  loadConfig,
  PLUGIN_API_VERSION,
  type PluginDescriptor,
  type PolicyPlugin,
} from '../core/index.js';
import { writeConfig } from './helpers.js';

/** Milliseconds any single wait in these tests may take before it fails the test. */
export const WAIT_MS = 5000;

/** An upgrade request as the test upstream received it. */
export interface RecordedUpgrade {
  url: string;
  headers: IncomingMessage['headers'];
  protocol: string;
}

/** A ws server on 127.0.0.1 and a free port, recording every connection it accepts. */
export interface WsUpstream {
  server: WebSocketServer;
  url: string;
  port: number;
  upgrades: RecordedUpgrade[];
  sockets: WebSocket[];
  close(): Promise<void>;
}

type ConnectionHandler = (socket: WebSocket, request: IncomingMessage) => void;

/** Echoes every message back as it came, text as text and binary as binary. */
export const echo: ConnectionHandler = (socket) => {
  socket.on('message', (data, isBinary) => socket.send(data, { binary: isBinary }));
};

/** Starts a ws upstream; `onConnection` defaults to {@link echo}. */
export async function startWsUpstream(
  t: TestContext,
  onConnection: ConnectionHandler = echo,
  options: { handleProtocols?: (protocols: Set<string>) => string | false } = {},
): Promise<WsUpstream> {
  const upgrades: RecordedUpgrade[] = [];
  const sockets: WebSocket[] = [];
  const server = new WebSocketServer({
    host: '127.0.0.1',
    port: 0,
    handleProtocols: options.handleProtocols,
  });
  await new Promise<void>((resolve) => server.once('listening', resolve));
  server.on('connection', (socket, request) => {
    upgrades.push({ url: request.url ?? '', headers: request.headers, protocol: socket.protocol });
    sockets.push(socket);
    socket.on('error', () => {});
    onConnection(socket, request);
  });
  const { port } = server.address() as AddressInfo;
  const close = () =>
    new Promise<void>((resolve) => {
      for (const socket of server.clients) {
        socket.terminate();
      }
      server.close(() => resolve());
    });
  t.after(close);
  return { server, url: `http://127.0.0.1:${port}`, port, upgrades, sockets, close };
}

/**
 * A policy for tests: rejects with `status` unless the request carries `header: value` or, when
 * `query` is set, the query parameter `query=value`.
 */
export const gatePolicy: PolicyPlugin<{
  status: number;
  header?: string;
  query?: string;
  value: string;
}> = definePlugin({
  name: 'test-gate',
  kind: 'policy',
  apiVersion: PLUGIN_API_VERSION,
  optionsSchema: {
    type: 'object',
    required: ['status', 'value'],
    properties: {
      status: { type: 'integer' },
      header: { type: 'string' },
      query: { type: 'string' },
      value: { type: 'string' },
    },
  },
  register(scope, options, context) {
    scope.addHook('onRequest', async (request, reply) => {
      const query = request.query as Record<string, string | undefined>;
      const presented = options.query
        ? query[options.query]
        : request.headers[options.header ?? ''];
      if (presented !== options.value) {
        return reply.code(options.status).send({
          error: 'test gate rejected the request',
          code: 'PACTOWN_ERR_TEST_GATE',
          route: context.route.path,
        });
      }
    });
  },
});

/** A policy for tests: lets the first `max` requests of the route through, then rejects with 429. */
export const countingPolicy: PolicyPlugin<{ max: number }> = definePlugin({
  name: 'test-count',
  kind: 'policy',
  apiVersion: PLUGIN_API_VERSION,
  optionsSchema: { type: 'object', required: ['max'], properties: { max: { type: 'integer' } } },
  register(scope, options, context) {
    let seen = 0;
    scope.addHook('onRequest', async (_request, reply) => {
      seen += 1;
      if (seen > options.max) {
        return reply.code(429).send({
          error: 'test limit reached',
          code: 'PACTOWN_ERR_TEST_LIMIT',
          route: context.route.path,
        });
      }
    });
  },
});

/** A policy for tests: waits `ms` before letting the request through. */
export const slowPolicy: PolicyPlugin<{ ms: number }> = definePlugin({
  name: 'test-slow',
  kind: 'policy',
  apiVersion: PLUGIN_API_VERSION,
  optionsSchema: { type: 'object', required: ['ms'], properties: { ms: { type: 'integer' } } },
  register(scope, options) {
    scope.addHook('onRequest', async () => {
      await new Promise((resolve) => setTimeout(resolve, options.ms));
    });
  },
});

/** A gateway started for one test, with its WebSocket base URL. */
export interface WsGateway {
  gateway: Gateway;
  url: string;
  wsUrl: string;
}

/** Options of {@link startWsGateway}. */
export interface WsGatewayOptions {
  env?: NodeJS.ProcessEnv;
  /** Plugins loaded next to the built-in ones and the test policies. */
  plugins?: PluginDescriptor[];
  /** Whether the gateway closes when the test ends; false for tests that close it themselves. */
  closeAtEnd?: boolean;
}

/** Starts a gateway for `text` with the built-in plugins and the test policies above. */
export async function startWsGateway(
  t: TestContext,
  text: string,
  options: WsGatewayOptions = {},
): Promise<WsGateway> {
  const env = options.env ?? {};
  const load = builtinLoadOptions({ ...env });
  const loaded = await loadConfig(writeConfig(text), {
    ...load,
    builtins: [
      ...(load.builtins ?? []),
      gatePolicy,
      countingPolicy,
      slowPolicy,
      ...(options.plugins ?? []),
    ],
  });
  const gateway = await createGateway(loaded, { logger: false, env });
  const url = await gateway.listen(0, '127.0.0.1');
  if (options.closeAtEnd !== false) {
    t.after(() => gateway.close());
  }
  return { gateway, url, wsUrl: url.replace(/^http/, 'ws') };
}

/** Rejects with a message naming `label` when `promise` takes longer than {@link WAIT_MS}. */
export function within<T>(promise: Promise<T>, label: string, ms = WAIT_MS): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out waiting for ${label}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Opens a client WebSocket and resolves once it is open; closed when the test ends. */
export async function connect(
  t: TestContext,
  url: string,
  protocols: string[] = [],
  options: ClientOptions = {},
): Promise<WebSocket> {
  const socket = new WebSocket(url, protocols, options);
  t.after(() => socket.terminate());
  await within(
    new Promise<void>((resolve, reject) => {
      socket.once('open', () => resolve());
      socket.once('error', reject);
      socket.once('unexpected-response', (_request, response) =>
        reject(new Error(`upgrade answered ${response.statusCode}`)),
      );
    }),
    `the WebSocket to ${url} to open`,
  );
  return socket;
}

/** A rejected upgrade: its HTTP status, headers and parsed JSON body. */
export interface Rejection {
  status: number;
  headers: IncomingMessage['headers'];
  body: Record<string, unknown>;
}

/** Sends an upgrade that the gateway is expected to reject with an HTTP error response. */
export function expectRejection(
  url: string,
  protocols: string[] = [],
  options: ClientOptions = {},
): Promise<Rejection> {
  const socket = new WebSocket(url, protocols, options);
  const rejection = new Promise<Rejection>((resolve, reject) => {
    socket.once('open', () => {
      socket.terminate();
      reject(new Error(`upgrade to ${url} was accepted`));
    });
    socket.once('error', reject);
    socket.once('unexpected-response', (_request, response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let body: Record<string, unknown>;
        try {
          body = JSON.parse(text) as Record<string, unknown>;
        } catch {
          body = { text };
        }
        resolve({ status: response.statusCode ?? 0, headers: response.headers, body });
        socket.terminate();
      });
    });
  });
  socket.on('error', () => {});
  return within(rejection, `the upgrade to ${url} to be rejected`);
}

/** One received message. */
export interface Message {
  data: Buffer;
  isBinary: boolean;
}

/** Resolves with the next message `socket` receives. */
export function nextMessage(socket: WebSocket): Promise<Message> {
  return within(
    new Promise<Message>((resolve) =>
      socket.once('message', (data: Buffer, isBinary: boolean) => resolve({ data, isBinary })),
    ),
    'a message',
  );
}

/** A close event: its code and reason. */
export interface Closed {
  code: number;
  reason: string;
}

/** Resolves when `socket` has closed, with the code and reason it received. */
export function closed(socket: WebSocket): Promise<Closed> {
  if (socket.readyState === WebSocket.CLOSED) {
    return Promise.reject(new Error('socket was already closed before the wait began'));
  }
  return within(
    new Promise<Closed>((resolve) =>
      socket.once('close', (code: number, reason: Buffer) =>
        resolve({ code, reason: reason.toString('utf8') }),
      ),
    ),
    'the WebSocket to close',
  );
}

/** Resolves when `upstream` has accepted `count` connections in total. */
export async function upstreamConnections(upstream: WsUpstream, count: number): Promise<void> {
  await within(
    new Promise<void>((resolve) => {
      const check = () => {
        if (upstream.sockets.length >= count) {
          upstream.server.off('connection', check);
          resolve();
        }
      };
      upstream.server.on('connection', check);
      check();
    }),
    `${count} upstream connections`,
  );
}
