import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import type { FastifyRequest } from 'fastify';
import WebSocket, { type ClientOptions } from 'ws';
import { setForwardedHeaders, stripHopByHop } from './headers.js';

/** RFC 9110 token characters, the syntax of a subprotocol name (RFC 6455 section 4.1). */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** A base64-encoded 16-byte nonce, the only valid `Sec-WebSocket-Key` (RFC 6455 section 4.1). */
const HANDSHAKE_KEY = /^[+/0-9A-Za-z]{22}==$/;

/** Handshake headers that the gateway's own connection to the upstream generates afresh. */
const HANDSHAKE_HEADERS = [
  'sec-websocket-key',
  'sec-websocket-version',
  'sec-websocket-extensions',
  'sec-websocket-protocol',
  'sec-websocket-accept',
];

/** Bytes of a non-101 upstream response body that are relayed to the client. */
const RELAYED_BODY_LIMIT = 64 * 1024;

/** Checks whether a request arrived through the server's `upgrade` event, not `request`. */
export function isUpgradeRequest(request: FastifyRequest): boolean {
  return (request.raw as IncomingMessage & { upgrade?: boolean }).upgrade === true;
}

/** A client opening handshake that failed validation. */
export interface HandshakeProblem {
  message: string;
  headers?: Record<string, string>;
}

/**
 * Checks the client's opening handshake (RFC 6455 section 4.2.1) before any upstream connection
 * is opened. Returns the problem, or the offered subprotocols in the client's order.
 */
export function readHandshake(
  request: FastifyRequest,
): { ok: true; protocols: string[] } | { ok: false; problem: HandshakeProblem } {
  const headers = request.headers;
  if (request.method !== 'GET') {
    return fail(`a WebSocket upgrade must use GET, got ${request.method}`);
  }
  if (headers.upgrade?.toLowerCase() !== 'websocket') {
    return fail(`Upgrade header must be "websocket", got "${headers.upgrade ?? ''}"`);
  }
  const key = headers['sec-websocket-key'];
  if (typeof key !== 'string' || !HANDSHAKE_KEY.test(key)) {
    return fail('Sec-WebSocket-Key header is missing or not a base64-encoded 16-byte value');
  }
  if (headers['sec-websocket-version'] !== '13') {
    return {
      ok: false,
      problem: {
        message: 'Sec-WebSocket-Version header must be 13',
        headers: { 'sec-websocket-version': '13' },
      },
    };
  }
  const protocols = parseProtocols(headers['sec-websocket-protocol']);
  if (protocols === undefined) {
    return fail('Sec-WebSocket-Protocol header must be a comma-separated list of distinct tokens');
  }
  return { ok: true, protocols };
}

function fail(message: string): { ok: false; problem: HandshakeProblem } {
  return { ok: false, problem: { message } };
}

function parseProtocols(header: string | undefined): string[] | undefined {
  if (header === undefined) {
    return [];
  }
  const protocols = header.split(',').map((name) => name.trim());
  const valid = protocols.every((name) => TOKEN.test(name));
  return valid && new Set(protocols).size === protocols.length ? protocols : undefined;
}

/**
 * Builds the headers sent to the upstream: the client's end-to-end headers, as HTTP routes
 * forward them, without the hop-by-hop and handshake headers that the gateway's own connection
 * replaces, and with `X-Forwarded-*` set.
 */
export function upstreamHeaders(
  request: FastifyRequest,
  preserveHost: boolean,
): IncomingHttpHeaders {
  const headers: IncomingHttpHeaders = { ...request.headers };
  stripHopByHop(headers);
  for (const name of HANDSHAKE_HEADERS) {
    delete headers[name];
  }
  delete headers.host;
  setForwardedHeaders(request, headers);
  if (preserveHost && request.headers.host) {
    headers.host = request.headers.host;
  }
  return headers;
}

/** Converts an `http://` or `https://` base URL to `ws://` or `wss://`; others stay as they are. */
export function toWebSocketUrl(base: URL): URL {
  const url = new URL(base.href);
  if (url.protocol === 'http:') {
    url.protocol = 'ws:';
  } else if (url.protocol === 'https:') {
    url.protocol = 'wss:';
  }
  return url;
}

/** Parameters of one upstream WebSocket connection. */
export interface UpstreamRequest {
  url: URL;
  protocols: string[];
  headers: IncomingHttpHeaders;
  /** Milliseconds the upstream has to complete its opening handshake. */
  timeoutMs: number;
  maxMessageSize: number;
  closeTimeoutMs: number;
  tlsVerify: boolean;
  tlsCa?: string;
}

/** An upstream that accepted the upgrade, paused until the client side is linked. */
export interface OpenUpstream {
  kind: 'open';
  socket: WebSocket;
  /** The subprotocol the upstream selected; undefined when it selected none. */
  protocol?: string;
  /** Upstream 101 response header lines to copy to the client's 101, such as `Set-Cookie`. */
  responseHeaders: string[];
}

/** An upstream that responded to the upgrade with an ordinary HTTP response, relayed as it is. */
export interface RefusedUpstream {
  kind: 'response';
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** An upstream that could not be reached or broke the handshake. */
export interface FailedUpstream {
  kind: 'failed';
  timedOut: boolean;
  /** The error code (`ECONNREFUSED`) or message, safe to return to the client. */
  cause: string;
}

/** The handshake was abandoned because the client went away first. */
export interface AbandonedUpstream {
  kind: 'abandoned';
}

export type UpstreamOutcome = OpenUpstream | RefusedUpstream | FailedUpstream | AbandonedUpstream;

/**
 * Opens the upstream WebSocket for one client and waits for its handshake, which settles the
 * subprotocol before the client gets its 101. Aborting `signal` (the client left, or shutdown
 * began) ends the attempt.
 */
export function openUpstream(
  target: UpstreamRequest,
  signal: AbortSignal,
): Promise<UpstreamOutcome> {
  return new Promise((resolve) => {
    let settled = false;
    let timedOut = false;
    let selected: string | undefined;
    let responseHeaders: string[] = [];
    // ws 8.23 accepts closeTimeout, which @types/ws 8.18 does not describe.
    const options: ClientOptions & { closeTimeout: number } = {
      headers: target.headers as Record<string, string>,
      maxPayload: target.maxMessageSize,
      closeTimeout: target.closeTimeoutMs,
      perMessageDeflate: false,
      autoPong: false,
      followRedirects: false,
      rejectUnauthorized: target.tlsVerify,
      ca: target.tlsCa,
    };
    const socket = new WebSocket(target.url, target.protocols, options);
    const settle = (outcome: UpstreamOutcome) => {
      if (!settled) {
        settled = true;
        clearTimeout(timer);
        signal.removeEventListener('abort', abandon);
        resolve(outcome);
      }
    };
    const abandon = () => {
      socket.terminate();
      settle({ kind: 'abandoned' });
    };
    const timer = setTimeout(() => {
      timedOut = true;
      socket.terminate();
    }, target.timeoutMs);
    signal.addEventListener('abort', abandon, { once: true });
    if (signal.aborted) {
      abandon();
    }
    socket.on('upgrade', (response) => {
      const header = response.headers['sec-websocket-protocol'];
      selected = typeof header === 'string' && header !== '' ? header : undefined;
      responseHeaders = copiedResponseHeaders(response);
      // RFC 6455 lets an upstream select no subprotocol, but ws fails such a handshake when the
      // client offered some. Naming the first offer here satisfies ws, and the client's 101
      // still carries no subprotocol, matching the upstream's response.
      if (selected === undefined && target.protocols.length > 0) {
        response.headers['sec-websocket-protocol'] = target.protocols[0];
      }
    });
    socket.once('open', () => {
      // Frames the upstream sends before the client is linked wait in the socket buffer.
      socket.pause();
      settle({ kind: 'open', socket, protocol: selected, responseHeaders });
    });
    socket.on('unexpected-response', (_request, response) => {
      readRelayedResponse(response).then((refused) => {
        settle(refused);
        socket.terminate();
      });
    });
    socket.on('error', (error: Error & { code?: string }) => {
      settle({ kind: 'failed', timedOut, cause: error.code ?? error.message });
    });
  });
}

/** Upstream 101 headers worth copying: everything but hop-by-hop and handshake headers. */
function copiedResponseHeaders(response: IncomingMessage): string[] {
  const headers: IncomingHttpHeaders = { ...response.headers };
  stripHopByHop(headers);
  for (const name of [...HANDSHAKE_HEADERS, 'content-length']) {
    delete headers[name];
  }
  const lines: string[] = [];
  for (const [name, value] of Object.entries(headers)) {
    for (const item of Array.isArray(value) ? value : [value]) {
      if (item !== undefined) {
        lines.push(`${name}: ${item}`);
      }
    }
  }
  return lines;
}

function readRelayedResponse(response: IncomingMessage): Promise<RefusedUpstream> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const finish = () => {
      const headers: IncomingHttpHeaders = { ...response.headers };
      stripHopByHop(headers);
      delete headers['content-length'];
      resolve({
        kind: 'response',
        status: response.statusCode ?? 502,
        headers,
        body: Buffer.concat(chunks),
      });
    };
    response.on('data', (chunk: Buffer) => {
      if (size < RELAYED_BODY_LIMIT) {
        chunks.push(chunk.subarray(0, RELAYED_BODY_LIMIT - size));
        size += chunk.length;
      }
      if (size >= RELAYED_BODY_LIMIT) {
        response.destroy();
      }
    });
    response.once('end', finish);
    response.once('close', finish);
  });
}
