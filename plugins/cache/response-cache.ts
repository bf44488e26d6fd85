import { Readable } from 'node:stream';
import type {
  FastifyBaseLogger,
  FastifyReply,
  FastifyRequest,
  HookHandlerDoneFunction,
} from 'fastify';
import type { CacheEntry, CacheStore, GatewayStats } from '../../core/index.js';
import { ThrottledLog } from '../shared/throttled-log.js';
import { captureStream } from './capture.js';
import {
  ageSeconds,
  etagMatches,
  type ResponseHeaders,
  storableLifetime,
  varyNames,
} from './freshness.js';
import { credentialSuffix, hasCredentials, targetKey, varySuffix } from './key.js';
import type { RouteCacheOptions } from './options.js';
import { type Flight, type FlightResult, SingleFlight } from './single-flight.js';

/** Methods RFC 9110 calls unsafe; a success on one invalidates the path's entries. */
const UNSAFE_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/**
 * Response headers that belong to one exchange, not to the stored response: set per request by
 * the gateway's policies (rate limit, request id, CORS) or by the cache itself.
 */
const UNSTORED_HEADERS = new Set([
  'age',
  'x-cache',
  'x-ratelimit-limit',
  'x-ratelimit-remaining',
  'x-ratelimit-reset',
  'x-request-id',
  'connection',
  'keep-alive',
  'transfer-encoding',
]);

const EMPTY_BODY = Buffer.alloc(0);

/** Symbol of the request decoration that carries a request's cache state. */
export const CACHE_STATE = Symbol('pactown.cache');

/** Decision the cache made for a request in `onRequest`, read again in `onSend`. */
type CacheState =
  | { kind: 'bypass' }
  /** A HEAD request with no stored GET to serve it: it goes upstream, and nothing is stored. */
  | { kind: 'uncached' }
  | { kind: 'invalidate'; tag: string }
  | {
      kind: 'miss';
      /** Key before the vary suffix, with the credential suffix. */
      base: string;
      tag: string;
      /** Set when this request is the one that fetches the key for others. */
      flight?: Flight;
      /** Reply header names set before the upstream responded, which are not stored. */
      before: Set<string>;
      /** Whether the key names whose request this is, so `Set-Cookie` may be stored. */
      personal: boolean;
    };

type StatefulRequest = FastifyRequest & { [CACHE_STATE]: CacheState | null };

const BYPASS: CacheState = { kind: 'bypass' };
const UNCACHED: CacheState = { kind: 'uncached' };

/** The key parts of a cacheable request, computed once in `onRequest`. */
interface Lookup {
  /** Key before the vary suffix, with the credential suffix. */
  base: string;
  tag: string;
  personal: boolean;
}

/** The key looked up, with the fresh entry under it, if any. */
interface Found {
  key: string;
  entry?: CacheEntry;
}

/**
 * The response cache of one route: serves fresh entries from `onRequest`, captures cacheable
 * upstream responses in `onSend`, makes concurrent misses for one key share one upstream
 * request, and invalidates a path after a successful unsafe request.
 */
export class ResponseCache {
  private readonly flights = new SingleFlight();
  private readonly failures: ThrottledLog;
  private readonly statuses: Set<number>;

  constructor(
    private readonly options: RouteCacheOptions,
    private readonly store: CacheStore,
    private readonly stats: GatewayStats,
    private readonly route: string,
    log: FastifyBaseLogger,
    private readonly now: () => number = Date.now,
  ) {
    this.failures = new ThrottledLog(log);
    this.statuses = new Set(options.statuses);
  }

  // Callback hooks, not async ones, so that a hit from an in-process store costs no promise.
  readonly onRequest = (
    request: FastifyRequest,
    reply: FastifyReply,
    done: HookHandlerDoneFunction,
  ): void => {
    const stateful = request as StatefulRequest;
    const method = request.method;
    // A WebSocket upgrade is a GET too, but it must reach the upstream, never a stored response.
    if (request.raw.headers.upgrade !== undefined) {
      stateful[CACHE_STATE] = BYPASS;
      done();
      return;
    }
    if (method !== 'GET' && method !== 'HEAD') {
      if (UNSAFE_METHODS.has(method)) {
        stateful[CACHE_STATE] = { kind: 'invalidate', tag: targetKey(request).tag };
      }
      done();
      return;
    }
    let credential = '';
    if (hasCredentials(request)) {
      const suffix =
        this.options.user_key.length > 0
          ? credentialSuffix(request, this.options.user_key)
          : undefined;
      if (suffix === undefined) {
        stateful[CACHE_STATE] = BYPASS;
        done();
        return;
      }
      credential = suffix;
    }
    const { base: target, tag } = targetKey(request);
    const lookup: Lookup = { base: target + credential, tag, personal: credential !== '' };
    const found = this.lookup(request, lookup.base);
    if (found instanceof Promise) {
      // A throw inside the callback would be an unhandled rejection, so it goes to done.
      found.then((result) => {
        try {
          this.afterLookup(request, reply, lookup, result, done);
        } catch (error) {
          done(error as Error);
        }
      }, done);
    } else {
      this.afterLookup(request, reply, lookup, found, done);
    }
  };

  readonly onSend = (
    request: FastifyRequest,
    reply: FastifyReply,
    payload: unknown,
    done: (error: Error | null, payload?: unknown) => void,
  ): void => {
    const state = (request as StatefulRequest)[CACHE_STATE];
    if (!state) {
      done(null, payload);
      return;
    }
    if (state.kind === 'bypass') {
      reply.header('x-cache', 'BYPASS');
      done(null, payload);
      return;
    }
    if (state.kind === 'uncached') {
      reply.header('x-cache', 'MISS');
      done(null, payload);
      return;
    }
    if (state.kind === 'invalidate') {
      if (reply.statusCode < 400) {
        this.invalidate(state.tag).then(() => done(null, payload));
      } else {
        done(null, payload);
      }
      return;
    }
    reply.header('x-cache', 'MISS');
    let captured: unknown;
    try {
      captured = this.capture(request, reply, payload, state);
    } catch (error) {
      done(error as Error);
      return;
    }
    done(null, captured);
  };

  /**
   * Serves a fresh entry, or an entry that a concurrent miss for the same key fetched. Otherwise
   * it marks the request a miss and lets it go upstream. A hook that sends the reply itself must
   * not call `done`.
   */
  private afterLookup(
    request: FastifyRequest,
    reply: FastifyReply,
    lookup: Lookup,
    found: { key: string; entry?: CacheEntry },
    done: HookHandlerDoneFunction,
  ): void {
    if (found.entry) {
      this.serve(request, reply, found.entry);
      return;
    }
    const waiting = this.flights.wait(found.key);
    if (!waiting) {
      // A HEAD response has no body to store under the GET key it looked up.
      if (request.method === 'HEAD') {
        (request as StatefulRequest)[CACHE_STATE] = UNCACHED;
      } else {
        this.markMiss(request, reply, lookup, this.leadFlight(found.key, reply));
      }
      done();
      return;
    }
    waiting.then((result) => {
      try {
        const shared = this.usable(request, lookup.base, result);
        if (shared) {
          this.serve(request, reply, shared);
          return;
        }
        if (request.method === 'HEAD') {
          (request as StatefulRequest)[CACHE_STATE] = UNCACHED;
        } else {
          this.markMiss(request, reply, lookup, undefined);
        }
      } catch (error) {
        done(error as Error);
        return;
      }
      done();
    }, done);
  }

  private markMiss(
    request: FastifyRequest,
    reply: FastifyReply,
    lookup: Lookup,
    flight: Flight | undefined,
  ): void {
    (request as StatefulRequest)[CACHE_STATE] = {
      kind: 'miss',
      base: lookup.base,
      tag: lookup.tag,
      flight,
      before: new Set(Object.keys(reply.getHeaders())),
      personal: lookup.personal,
    };
  }

  /**
   * Finds the fresh entry for a request, following a variant index to the variant. It returns
   * without a promise when the store does.
   */
  private lookup(request: FastifyRequest, base: string): Found | Promise<Found> {
    const entry = this.get(base);
    if (entry instanceof Promise) {
      return entry.then((resolved) => this.followVariant(request, base, resolved));
    }
    return this.followVariant(request, base, entry);
  }

  private followVariant(
    request: FastifyRequest,
    base: string,
    entry: CacheEntry | undefined,
  ): Found | Promise<Found> {
    if (!entry?.vary) {
      return { key: base, entry };
    }
    const key = base + varySuffix(request, entry.vary);
    const variant = this.get(key);
    return variant instanceof Promise
      ? variant.then((resolved) => ({ key, entry: resolved }))
      : { key, entry: variant };
  }

  /** The entry another request fetched, if it fits this request's vary values. */
  private usable(
    request: FastifyRequest,
    base: string,
    result: FlightResult | undefined,
  ): CacheEntry | undefined {
    if (!result) {
      return undefined;
    }
    const key = result.vary.length === 0 ? base : base + varySuffix(request, result.vary);
    return key === result.key ? result.entry : undefined;
  }

  private leadFlight(key: string, reply: FastifyReply): Flight {
    const flight = this.flights.lead(key);
    // 'close' follows every response, finished or aborted, so waiting requests never hang.
    reply.raw.once('close', () => flight.settle(undefined));
    return flight;
  }

  private serve(request: FastifyRequest, reply: FastifyReply, entry: CacheEntry) {
    this.stats.increment('requests_cached', this.route);
    const age = Math.max(0, Math.floor((this.now() - entry.storedAt) / 1000));
    reply.headers(entry.headers);
    reply.header('age', age);
    reply.header('x-cache', 'HIT');
    const ifNoneMatch = request.headers['if-none-match'];
    if (etagMatches(ifNoneMatch, entry.headers.etag)) {
      return reply.code(304).send();
    }
    return reply.code(entry.status).send(entry.body);
  }

  /** Stores the response when it may be stored, passing the body through either way. */
  private capture(
    request: FastifyRequest,
    reply: FastifyReply,
    payload: unknown,
    state: Extract<CacheState, { kind: 'miss' }>,
  ): unknown {
    const headers = reply.getHeaders() as ResponseHeaders;
    const lifetime = this.lifetime(reply.statusCode, headers, state.personal);
    const vary = lifetime === undefined ? null : varyNames(headers);
    const declared = Number(headers['content-length'] ?? 0);
    if (lifetime === undefined || vary === null || declared > this.options.max_body) {
      state.flight?.settle(undefined);
      return payload;
    }
    const store = (body: Buffer) => {
      const entry = this.entryOf(reply.statusCode, headers, state.before, body, lifetime);
      const key = vary.length === 0 ? state.base : state.base + varySuffix(request, vary);
      void this.save(state, key, entry, vary);
    };
    if (payload === null || payload === undefined) {
      store(EMPTY_BODY);
      return payload;
    }
    if (typeof payload === 'string' || Buffer.isBuffer(payload)) {
      const body = Buffer.from(payload as string);
      if (body.length <= this.options.max_body) {
        store(body);
      } else {
        state.flight?.settle(undefined);
      }
      return payload;
    }
    if (payload instanceof Readable) {
      return captureStream(payload, this.options.max_body, store, () =>
        state.flight?.settle(undefined),
      );
    }
    state.flight?.settle(undefined);
    return payload;
  }

  private lifetime(status: number, headers: ResponseHeaders, personal: boolean) {
    if (!this.statuses.has(status)) {
      return undefined;
    }
    if (headers['set-cookie'] !== undefined && !personal) {
      return undefined;
    }
    return storableLifetime(headers, this.options.ttl, this.now());
  }

  private entryOf(
    status: number,
    headers: ResponseHeaders,
    before: Set<string>,
    body: Buffer,
    lifetime: number,
  ): CacheEntry {
    const stored: Record<string, string | string[]> = {};
    for (const [name, value] of Object.entries(headers)) {
      if (value !== undefined && !before.has(name) && !UNSTORED_HEADERS.has(name)) {
        stored[name] = typeof value === 'number' ? String(value) : value;
      }
    }
    const time = this.now();
    return {
      status,
      headers: stored,
      body,
      storedAt: time - ageSeconds(headers) * 1000,
      expiresAt: time + lifetime,
    };
  }

  /**
   * Settles the flight, then writes the variant index (when the response varies) and the entry.
   * NOTE: a response fetched before an unsafe request invalidated its path, and captured after
   * it, is still stored. Tracking an invalidation generation per tag would close that gap.
   */
  private async save(
    state: Extract<CacheState, { kind: 'miss' }>,
    key: string,
    entry: CacheEntry,
    vary: string[],
  ): Promise<void> {
    state.flight?.settle({ key, entry, vary });
    const tags = [state.tag];
    if (vary.length > 0) {
      const index: CacheEntry = {
        status: 0,
        headers: {},
        body: EMPTY_BODY,
        storedAt: entry.storedAt,
        expiresAt: this.now() + this.options.ttl,
        vary,
      };
      await this.set(state.base, index, tags);
    }
    await this.set(key, entry, tags);
  }

  /** Reads an entry and treats a store failure as a miss. It is synchronous when the store is. */
  private get(key: string): CacheEntry | undefined | Promise<CacheEntry | undefined> {
    let entry: CacheEntry | undefined | Promise<CacheEntry | undefined>;
    try {
      entry = this.store.get(key);
    } catch (error) {
      this.readFailed(error);
      return undefined;
    }
    if (entry instanceof Promise) {
      return entry.then(
        (resolved) => this.fresh(resolved),
        (error: unknown) => {
          this.readFailed(error);
          return undefined;
        },
      );
    }
    return this.fresh(entry);
  }

  private fresh(entry: CacheEntry | undefined): CacheEntry | undefined {
    return entry && entry.expiresAt > this.now() ? entry : undefined;
  }

  private readFailed(error: unknown): void {
    this.failures.error('get', { err: error }, 'cache store read failed');
  }

  private async set(key: string, entry: CacheEntry, tags: string[]): Promise<void> {
    try {
      await this.store.set(key, entry, tags);
    } catch (error) {
      this.failures.error('set', { err: error }, 'cache store write failed');
    }
  }

  private async invalidate(tag: string): Promise<void> {
    try {
      await this.store.invalidate(tag);
    } catch (error) {
      this.failures.error('invalidate', { err: error }, 'cache store invalidation failed');
    }
  }
}
