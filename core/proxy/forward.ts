import type { IncomingHttpHeaders } from 'node:http';
import { Readable, Stream } from 'node:stream';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { type Dispatcher, util as undiciUtil } from 'undici';
import { HOP_BY_HOP_HEADERS } from './headers.js';

/**
 * Responses with a `Content-Length` up to this many bytes are read whole and sent as one Buffer,
 * which spares a stream pipe per request. Longer, chunked and HEAD responses are streamed.
 */
export const BUFFERED_BODY_LIMIT = 64 * 1024;

/** The request as @fastify/reply-from hands it to `retryDelay`. */
export interface UpstreamRequest {
  method: string;
  url: string;
  qs: string;
  headers: IncomingHttpHeaders;
  /** An empty string when there is no body, as reply-from passes it. */
  body: Readable | Buffer | string;
  timeout?: number;
}

/** The argument of `retryDelay`, in @fastify/reply-from's shape. */
export interface RetryDelayContext {
  err?: Error & { code?: string };
  req: UpstreamRequest;
  res?: { statusCode: number; headers: IncomingHttpHeaders };
  attempt: number;
  retriesCount: number;
  getDefaultDelay: () => null;
}

/** The @fastify/reply-from reply options that {@link createForwarder} honours. */
export interface ForwardHooks {
  timeout?: number;
  queryString?: (search: string, url: string, request: FastifyRequest) => string;
  rewriteRequestHeaders?: (
    request: FastifyRequest,
    headers: IncomingHttpHeaders,
  ) => IncomingHttpHeaders;
  rewriteHeaders?: (headers: IncomingHttpHeaders, request: FastifyRequest) => IncomingHttpHeaders;
  onError?: (reply: FastifyReply, context: { error: Error }) => void;
  retryDelay?: (context: RetryDelayContext) => number | null | undefined;
}

/** An upstream failure in @fastify/reply-from's form: its code, status and the undici cause. */
export class UpstreamError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly statusCode: number,
    cause: unknown,
  ) {
    super(message, { cause });
    this.name = 'UpstreamError';
  }

  /** Requests sent to the upstream for this client request, retries included. */
  attempts?: number;
}

/**
 * Builds the @fastify/http-proxy `handler` of one route: it forwards to `origin` through
 * `dispatcher` with undici's dispatch API and honours the reply options @fastify/reply-from takes
 * (`rewriteRequestHeaders`, `rewriteHeaders`, `queryString`, `retryDelay`, `onError`, `timeout`).
 * Compared with `reply.from()` it copies the request headers once, skips reply-from's URL cache
 * and the undici `request()` wrapper (an AsyncResource and a Readable per response), and sends
 * small bodies as one Buffer; see {@link BUFFERED_BODY_LIMIT}.
 *
 * @example
 * ```ts
 * await scope.register(httpProxy, {
 *   upstream: target.origin,
 *   handler: createForwarder(() => pool, target),
 *   replyOptions: { rewriteRequestHeaders, onError },
 * });
 * ```
 */
export function createForwarder(dispatcher: () => Dispatcher, origin: URL) {
  const host = origin.host;
  return (request: FastifyRequest, reply: FastifyReply, dest: string, hooks: ForwardHooks) => {
    const url = request.raw.url ?? '/';
    const copied = copyRequestHeaders(request.raw.headers, host);
    const headers = hooks.rewriteRequestHeaders
      ? hooks.rewriteRequestHeaders(request, copied)
      : copied;
    const upstreamRequest: UpstreamRequest = {
      method: request.raw.method ?? 'GET',
      url: upstreamPath(dest),
      qs: queryOf(url, request, hooks),
      headers,
      body: requestBody(request, headers),
      timeout: hooks.timeout,
    };
    new UpstreamExchange(dispatcher(), request, reply, hooks, upstreamRequest, 0).send();
  };
}

const HOP_BY_HOP = new Set(HOP_BY_HOP_HEADERS);

/** Lower-case header names that a `Connection` value lists (RFC 9110 section 7.6.1). */
function connectionListed(value: string | string[] | undefined): Set<string> | undefined {
  if (value === undefined) {
    return undefined;
  }
  const listed = new Set<string>();
  for (const part of Array.isArray(value) ? value : [value]) {
    for (const name of part.split(',')) {
      listed.add(name.trim().toLowerCase());
    }
  }
  return listed;
}

/**
 * Copies the client's headers without hop-by-hop headers and those that `Connection` names.
 * Copying only what is kept, instead of copying and deleting, keeps V8's fast object layout.
 */
function copyRequestHeaders(source: IncomingHttpHeaders, host: string): IncomingHttpHeaders {
  const listed = connectionListed(source.connection);
  const headers: IncomingHttpHeaders = {};
  for (const name in source) {
    if (!HOP_BY_HOP.has(name) && (listed === undefined || !listed.has(name))) {
      headers[name] = source[name];
    }
  }
  headers.host = host;
  return headers;
}

/**
 * Parses undici's raw response headers as `util.parseHeaders` does (lower-case names, repeated
 * headers as arrays), leaving out hop-by-hop headers and those that `Connection` names.
 */
function responseHeaders(raw: Buffer[]): IncomingHttpHeaders {
  const names: string[] = [];
  let listed: Set<string> | undefined;
  for (let index = 0; index < raw.length; index += 2) {
    const name = undiciUtil.headerNameToString(raw[index]);
    names.push(name);
    if (name === 'connection') {
      listed ??= new Set();
      for (const part of raw[index + 1].toString('latin1').split(',')) {
        listed.add(part.trim().toLowerCase());
      }
    }
  }
  const headers: Record<string, string | string[]> = {};
  for (let index = 0; index < raw.length; index += 2) {
    const name = names[index / 2];
    if (HOP_BY_HOP.has(name) || listed?.has(name) || name === '__proto__') {
      continue;
    }
    const value = raw[index + 1].toString('latin1');
    const previous = headers[name];
    if (previous === undefined) {
      headers[name] = value;
    } else if (typeof previous === 'string') {
      headers[name] = [previous, value];
    } else {
      previous.push(value);
    }
  }
  return headers;
}

/** Characters a path keeps unchanged through WHATWG URL parsing. */
const PLAIN_PATH = /^\/[A-Za-z0-9\-._~!$&'()*+,;=:@/%]*$/;

/**
 * Returns the path as `new URL(dest, origin)` would send it. Plain paths, the usual case, skip the
 * parse; others (spaces, backslashes, non-ASCII) are normalised by it, as reply-from does.
 */
function upstreamPath(dest: string): string {
  if (PLAIN_PATH.test(dest)) {
    return dest;
  }
  return new URL(dest, 'http://upstream.invalid').pathname;
}

function queryOf(url: string, request: FastifyRequest, hooks: ForwardHooks): string {
  if (hooks.queryString) {
    const query = hooks.queryString('', url, request);
    return query ? `?${query}` : '';
  }
  const index = url.indexOf('?');
  return index === -1 ? '' : url.slice(index);
}

/**
 * Returns the body to send: the request stream as received (http-proxy's content-type parser
 * leaves it unread), or a value a policy put in its place, encoded as reply-from encodes it.
 */
function requestBody(
  request: FastifyRequest,
  headers: IncomingHttpHeaders,
): Readable | Buffer | string {
  const body = request.body;
  if (body === undefined || body === null || body === '') {
    return '';
  }
  if (body instanceof Stream) {
    return body as Readable;
  }
  const encoded = typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body);
  if (encoded !== body) {
    headers['content-type'] = 'application/json';
  }
  headers['content-length'] = String(Buffer.byteLength(encoded));
  return encoded;
}

/**
 * One attempt to forward a request, as an undici dispatch handler. A retry starts a new
 * exchange, so late callbacks of an abandoned attempt cannot touch the reply.
 */
class UpstreamExchange implements Dispatcher.DispatchHandler {
  private abortUpstream: ((reason?: Error) => void) | null = null;
  private resumeUpstream: (() => void) | null = null;
  private chunks: Buffer[] | null = null;
  private stream: Readable | null = null;
  private statusCode = 0;
  private responseHeaders: IncomingHttpHeaders | null = null;
  private done = false;

  constructor(
    private readonly dispatcher: Dispatcher,
    private readonly request: FastifyRequest,
    private readonly reply: FastifyReply,
    private readonly hooks: ForwardHooks,
    private readonly upstream: UpstreamRequest,
    private readonly attempt: number,
  ) {}

  send(): void {
    const { upstream } = this;
    try {
      this.dispatcher.dispatch(
        {
          path: upstream.url + upstream.qs,
          method: upstream.method as Dispatcher.HttpMethod,
          headers: upstream.headers as Record<string, string | string[]>,
          body: upstream.body === '' ? null : upstream.body,
          headersTimeout: upstream.timeout,
          bodyTimeout: upstream.timeout,
        },
        this,
      );
    } catch (error) {
      this.onError(error as Error);
    }
  }

  onConnect(abort: (reason?: Error) => void): void {
    this.abortUpstream = abort;
  }

  onHeaders(
    statusCode: number,
    rawHeaders: Buffer[] | string[] | null,
    resume: () => void,
  ): boolean {
    if (this.done || statusCode < 200) {
      // 1xx informational responses are not passed on, as with reply-from.
      return !this.done;
    }
    const headers = responseHeaders((rawHeaders ?? []) as Buffer[]);
    if (this.retryAfterResponse(statusCode, headers)) {
      return false;
    }
    if (this.request.raw.aborted) {
      // The client left before the upstream responded, so nothing can be sent.
      this.finish(new Error('client closed the request'));
      return false;
    }
    this.statusCode = statusCode;
    this.responseHeaders = this.hooks.rewriteHeaders
      ? this.hooks.rewriteHeaders(headers, this.request)
      : headers;
    this.resumeUpstream = resume;
    if (this.isSmallBody(statusCode, headers)) {
      this.chunks = [];
      return true;
    }
    this.stream = new Readable({
      read: () => this.resumeUpstream?.(),
      destroy: (error, callback) => {
        if (!this.done) {
          // The client went away mid-body: stop reading from the upstream too.
          this.finish(error ?? new Error('client closed the response'));
        }
        callback(error);
      },
    });
    this.startReply(this.stream);
    return true;
  }

  onData(chunk: Buffer): boolean {
    if (this.chunks) {
      this.chunks.push(chunk);
      return true;
    }
    return this.stream ? this.stream.push(chunk) : false;
  }

  onComplete(): void {
    if (this.done) {
      return;
    }
    this.done = true;
    if (this.chunks) {
      const body = this.chunks.length === 1 ? this.chunks[0] : Buffer.concat(this.chunks);
      this.chunks = null;
      this.startReply(body);
    } else {
      this.stream?.push(null);
    }
  }

  onError(error: Error & { code?: string }): void {
    if (this.done) {
      return;
    }
    this.done = true;
    if (this.stream) {
      // Headers are already sent; Fastify closes the response when its payload fails.
      this.stream.destroy(error);
      return;
    }
    this.chunks = null;
    const delay = this.hooks.retryDelay?.(this.retryContext(error));
    if (delay && !this.reply.sent) {
      this.retry(delay);
      return;
    }
    if (!this.reply.sent) {
      const failure = upstreamError(error);
      failure.attempts = this.attempt + 1;
      this.fail(failure);
    }
  }

  private isSmallBody(statusCode: number, headers: IncomingHttpHeaders): boolean {
    if (this.upstream.method === 'HEAD' || statusCode === 204 || statusCode === 304) {
      return false;
    }
    const declared = headers['content-length'];
    if (typeof declared !== 'string') {
      return false;
    }
    const length = Number(declared);
    return length >= 0 && length <= BUFFERED_BODY_LIMIT;
  }

  /** Sends status, headers and payload, as reply-from does once the upstream responded. */
  private startReply(payload: Readable | Buffer): void {
    const { reply } = this;
    const headers = this.responseHeaders!;
    for (const name in headers) {
      // HTTP/2 pseudo-headers (":status") are never copied.
      if (name.charCodeAt(0) !== 58) {
        reply.header(name, headers[name]);
      }
    }
    if (!this.request.raw.complete) {
      // An HTTP/1 connection cannot be reused until its request body has been read.
      reply.header('connection', 'close');
    }
    try {
      reply.code(this.statusCode);
    } catch {
      this.finish(new Error(`invalid upstream status ${this.statusCode}`));
      this.fail(new UpstreamError('FST_REPLY_FROM_BAD_GATEWAY', 'Bad Gateway', 502, undefined));
      return;
    }
    reply.send(payload);
  }

  private retryAfterResponse(statusCode: number, headers: IncomingHttpHeaders): boolean {
    const delay = this.hooks.retryDelay?.({
      err: undefined,
      req: this.upstream,
      res: { statusCode, headers },
      attempt: this.attempt,
      retriesCount: 0,
      getDefaultDelay: noDefaultDelay,
    });
    if (!delay || this.reply.sent) {
      return false;
    }
    this.finish(new Error('response discarded for a retry'));
    this.retry(delay);
    return true;
  }

  private retryContext(error: (Error & { code?: string }) | undefined): RetryDelayContext {
    return {
      err: error,
      req: this.upstream,
      attempt: this.attempt,
      retriesCount: 0,
      getDefaultDelay: noDefaultDelay,
    };
  }

  private retry(delay: number): void {
    const next = new UpstreamExchange(
      this.dispatcher,
      this.request,
      this.reply,
      this.hooks,
      this.upstream,
      this.attempt + 1,
    );
    setTimeout(() => next.send(), delay);
  }

  /** Marks the attempt finished and aborts what the upstream still sends. */
  private finish(reason: Error): void {
    this.done = true;
    this.chunks = null;
    this.abortUpstream?.(reason);
  }

  private fail(error: Error): void {
    if (this.hooks.onError) {
      this.hooks.onError(this.reply, { error });
    } else {
      this.reply.send(error);
    }
  }
}

/** reply-from's own retry rule does not apply: `retryDelay` alone decides. */
function noDefaultDelay(): null {
  return null;
}

/** Maps an undici error to the error @fastify/reply-from would hand to `onError`. */
function upstreamError(error: Error & { code?: string }): UpstreamError {
  switch (error.code) {
    case 'ENOTFOUND':
      return new UpstreamError(
        'FST_REPLY_FROM_SERVICE_UNAVAILABLE',
        'Service Unavailable',
        503,
        error,
      );
    case 'UND_ERR_HEADERS_TIMEOUT':
      return new UpstreamError('FST_REPLY_FROM_GATEWAY_TIMEOUT', 'Gateway Timeout', 504, error);
    case 'ECONNRESET':
      return new UpstreamError('ECONNRESET', 'Connection Reset', 500, error);
    case 'UND_ERR_SOCKET':
      return new UpstreamError('UND_ERR_SOCKET', 'Undici Socket Error', 500, error);
    case 'UND_ERR_CONNECT_TIMEOUT':
      return new UpstreamError('UND_ERR_CONNECT_TIMEOUT', 'Connect Timeout Error', 504, error);
    default:
      return new UpstreamError('FST_REPLY_FROM_INTERNAL_SERVER_ERROR', error.message, 500, error);
  }
}

/** A route handler as Fastify calls it. */
type RouteHandler = (
  this: unknown,
  request: FastifyRequest,
  reply: FastifyReply,
) => unknown | Promise<unknown>;

/** Path characters for which @fastify/http-proxy's mapping and checks change nothing. */
export const FAST_PATH = /^[A-Za-z0-9\-._~!$&'()*+,;=:@/]*$/;

/**
 * Wraps the route handler that @fastify/http-proxy registers for a prefixed route. For a plain
 * path that starts with the prefix as written, it maps the path itself (`rewritePrefix` plus the
 * rest, as the plugin does) and calls the forwarder, which skips the plugin's per-request URL
 * work: three `new URL()` calls and a string scan, about 5 % of a request's CPU time in
 * docs/benchmarks.md. Any other path, and every upgrade, goes through the plugin's own handler,
 * so percent-encoded paths, `//` and backslashes are still mapped and checked by it. The dot
 * segments that its check rejects never reach either handler, because the route's `onRequest`
 * hook rejects them first.
 */
export function fastPathHandler(
  original: RouteHandler,
  prefix: string,
  rewritePrefix: string,
  forward: ReturnType<typeof createForwarder>,
): RouteHandler {
  // http-proxy drops the rewrite prefix's trailing slash when the route prefix has none.
  const mappedPrefix =
    !prefix.endsWith('/') && rewritePrefix.endsWith('/')
      ? rewritePrefix.slice(0, -1)
      : rewritePrefix;
  let hooks: ForwardHooks | undefined;
  return function proxyHandler(this: unknown, request, reply) {
    const url = request.raw.url ?? '/';
    const query = url.indexOf('?');
    const path = query === -1 ? url : url.slice(0, query);
    const rest = path.slice(prefix.length);
    const plain =
      path.startsWith(prefix) &&
      (rest === '' || rest.charCodeAt(0) === 47) &&
      !rest.includes('//') &&
      FAST_PATH.test(rest) &&
      request.headers.upgrade === undefined;
    if (!plain) {
      return original.call(this, request, reply);
    }
    // The reply options exactly as the plugin hands them to reply.from(), with its own
    // `rewriteHeaders` wrapper (Location rewriting and header sanitising) around the route's.
    hooks ??= (reply as FastifyReplyWithParameters).fromParameters('/', {}, prefix)
      .options as ForwardHooks;
    forward(request, reply, mappedPrefix + rest || '/', hooks);
  };
}

/** The decorator @fastify/http-proxy adds to replies of its routes. */
interface FastifyReplyWithParameters extends FastifyReply {
  fromParameters(url: string, params: unknown, prefix: string): { url: string; options: unknown };
}
