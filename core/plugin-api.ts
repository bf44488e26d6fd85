import type { FastifyBaseLogger, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { RouteConfig } from './config/types.js';
import type { GatewayStats } from './server/stats.js';
import type { CacheStore, IdempotencyStore, LimiterStore } from './stores/interfaces.js';

/** The plugin contract version that this gateway implements. */
export const PLUGIN_API_VERSION = 1;

/** The kinds of plugin that the gateway keeps a registry for. */
export const PLUGIN_KINDS = [
  'webhook-provider',
  'event-source',
  'auth-scheme',
  'limiter-store',
  'cache-store',
  'policy',
] as const;

export type PluginKind = (typeof PLUGIN_KINDS)[number];

/** A JSON Schema object, as ajv accepts it. */
export type JsonSchema = Record<string, unknown>;

/** Fields that every plugin descriptor carries. */
export interface PluginDescriptorBase<K extends PluginKind> {
  /** Unique name within its kind, as written in the YAML config. */
  name: string;
  kind: K;
  /** Must equal {@link PLUGIN_API_VERSION}; a mismatch is a config error. */
  apiVersion: number;
  /**
   * JSON Schema of the plugin's options, checked with ajv when the config loads. Mark secret
   * properties with `writeOnly: true` so `/routes` and logs show them as `"***"`.
   */
  optionsSchema?: JsonSchema;
  /** One line for `pactown routes` and the docs. */
  description?: string;
}

/** Services that the gateway hands to every plugin factory. */
export interface PluginContext {
  /** Logger bound to the plugin and, for route plugins, to the route. */
  log: FastifyBaseLogger;
  stats: GatewayStats;
  /** Folder of the config file, for resolving paths in options. */
  configDir: string;
  /** Plugins of other kinds, for plugins that build on them (a policy that uses an auth scheme). */
  registry: PluginLookup;
  /** The shared stores of this gateway instance. */
  stores: GatewayStores;
}

/** Context of a plugin that runs on one route. */
export interface RoutePluginContext extends PluginContext {
  route: RouteConfig;
}

/** Read access to the registries of a gateway instance. */
export interface PluginLookup {
  get<K extends PluginKind>(kind: K, name: string): PluginOfKind<K> | undefined;
  list<K extends PluginKind>(kind: K): PluginOfKind<K>[];
}

/** Stores shared by the plugins of one gateway instance. */
export interface GatewayStores {
  idempotency: IdempotencyStore;
  /** Creates the limiter store a route asked for, or the configured default. */
  limiter(name?: string): LimiterStore | undefined;
  /** Creates the cache store a route asked for, or the configured default. */
  cache(name?: string): CacheStore | undefined;
}

/**
 * A policy: a Fastify plugin registered in the route's own encapsulated context, so its hooks
 * apply to that route only. Request-side work belongs in an `onRequest` hook, which makes the
 * route's policies run in the order the config lists them.
 *
 * @example
 * ```ts
 * export default definePlugin({
 *   name: 'powered-by', kind: 'policy', apiVersion: PLUGIN_API_VERSION,
 *   optionsSchema: { type: 'object', properties: { value: { type: 'string' } } },
 *   async register(scope, options: { value?: string }) {
 *     scope.addHook('onSend', async (_request, reply) => {
 *       reply.header('x-powered-by', options.value ?? 'pactown');
 *     });
 *   },
 * });
 * ```
 */
export interface PolicyPlugin<O = unknown> extends PluginDescriptorBase<'policy'> {
  /**
   * A route key that enables this policy as a shorthand (`rate_limit: 100/min`). Shorthands run
   * before the route's `plugins:` list, in the order auth, rate limit, cache, then any others.
   */
  routeKey?: string;
  /** Position among shorthands; lower runs first. */
  shorthandOrder?: number;
  /** Turns a shorthand value (a string such as `100/min`) into options for `optionsSchema`. */
  expandShorthand?(value: unknown): unknown;
  register(scope: FastifyInstance, options: O, context: RoutePluginContext): Promise<void> | void;
}

/** The result of an authentication attempt. */
export type AuthResult =
  | { ok: true; principal: Principal }
  | { ok: false; status: 401 | 403; code: string; message: string; challenge?: string };

/** Who made a request, as an auth scheme established it. */
export interface Principal {
  /** Stable identifier for logs and rate-limit keys: a subject, a key name, a user name. */
  id: string;
  scheme: string;
  claims?: Record<string, unknown>;
}

/** A configured authentication scheme for one route. */
export interface AuthScheme {
  authenticate(request: FastifyRequest): Promise<AuthResult>;
  close?(): Promise<void>;
}

export interface AuthSchemePlugin<O = unknown> extends PluginDescriptorBase<'auth-scheme'> {
  create(options: O, context: RoutePluginContext): AuthScheme | Promise<AuthScheme>;
}

/** What a webhook provider sees of a request: the exact bytes and the headers. */
export interface WebhookRequest {
  /** The body exactly as received. */
  body: Buffer;
  /** Header names in lower case; repeated headers stay arrays. */
  headers: Record<string, string | string[] | undefined>;
  method: string;
  /** Path and query as received. */
  url: string;
  query: Record<string, unknown>;
  /** Client address after the trusted-proxy rules. */
  ip: string;
  /** Seconds since the epoch, from the gateway clock. */
  now: number;
}

/** The outcome of verifying one webhook request. */
export type WebhookVerification =
  | { ok: true; eventId?: string; eventType?: string; response?: WebhookResponse }
  | { ok: false; status?: 401 | 403 | 400 | 415; reason: string; message: string };

/** A response the provider answers itself, such as GitHub's `ping` or a registration probe. */
export interface WebhookResponse {
  status: number;
  body: unknown;
  /** When true the event is answered here and not forwarded. */
  final: boolean;
}

/** A configured webhook provider for one route. */
export interface WebhookProvider {
  verify(request: WebhookRequest): WebhookVerification | Promise<WebhookVerification>;
  /** Answers a non-POST request to the webhook URL (InPost's GET probe); `undefined` means 405. */
  probe?(request: WebhookRequest): WebhookResponse | undefined;
}

export interface WebhookProviderPlugin<O = unknown>
  extends PluginDescriptorBase<'webhook-provider'> {
  /** Environment variable that supplies the secret when a route gives none. */
  secretEnv?: string;
  /** Whether a route must have a secret; defaults to true. */
  requiresSecret?: boolean | ((options: O) => boolean);
  /** Default maximum body size in bytes. */
  defaultBodyLimit?: number;
  create(options: O, context: RoutePluginContext): WebhookProvider | Promise<WebhookProvider>;
}

/** One event produced by an event source. */
export interface SourceEvent {
  id: string;
  type: string;
  body: Buffer;
  headers: Record<string, string>;
}

/** A running event source (a poller). */
export interface EventSource {
  start(emit: (events: SourceEvent[]) => Promise<void>): Promise<void>;
  stop(): Promise<void>;
}

export interface EventSourcePlugin<O = unknown> extends PluginDescriptorBase<'event-source'> {
  create(options: O, context: PluginContext): EventSource | Promise<EventSource>;
}

export interface LimiterStorePlugin<O = unknown> extends PluginDescriptorBase<'limiter-store'> {
  create(options: O, context: PluginContext): LimiterStore;
}

export interface CacheStorePlugin<O = unknown> extends PluginDescriptorBase<'cache-store'> {
  create(options: O, context: PluginContext): CacheStore;
}

/** Any plugin descriptor. */
export type PluginDescriptor =
  | PolicyPlugin<any>
  | AuthSchemePlugin<any>
  | WebhookProviderPlugin<any>
  | EventSourcePlugin<any>
  | LimiterStorePlugin<any>
  | CacheStorePlugin<any>;

export type PluginOfKind<K extends PluginKind> = Extract<PluginDescriptor, { kind: K }>;

/** Reply helpers re-exported for policy authors. */
export type { FastifyInstance, FastifyReply, FastifyRequest };

/**
 * Returns the descriptor unchanged, typed. Use it as a plugin module's default export.
 *
 * @example
 * ```ts
 * import { definePlugin, PLUGIN_API_VERSION } from 'pactown-gateway';
 * export default definePlugin({ name: 'shopify', kind: 'webhook-provider',
 *   apiVersion: PLUGIN_API_VERSION, create: (options) => ({ verify: (request) => ... }) });
 * ```
 */
export function definePlugin<D extends PluginDescriptor>(descriptor: D): D {
  return descriptor;
}
