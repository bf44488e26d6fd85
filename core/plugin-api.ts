import type {
  FastifyBaseLogger,
  FastifyInstance,
  FastifyReply,
  FastifyRequest,
  HookHandlerDoneFunction,
} from 'fastify';
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
  /**
   * The environment the config was read with, for secrets a plugin reads by default. Route
   * kinds that build their own context may leave it out, so read it as `env ?? process.env`.
   */
  env?: NodeJS.ProcessEnv;
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
  /**
   * Turns options as written (a shorthand string such as `100/min`, or the `plugins:` entry) into
   * the options that `check` and `register` receive.
   */
  expandShorthand?(value: unknown): unknown;
  /**
   * Returns expanded options as `/routes` shows them, in units the config reads back, such as a
   * window of `60s` where the options hold 60000 milliseconds. Without it they are shown as held.
   */
  describeOptions?(options: O): unknown;
  /**
   * Checks the expanded options of one route at config load, beyond what `optionsSchema` can
   * express: a secret read from the environment, a file that must exist, another plugin the
   * policy builds on. Each problem becomes a config error with its line and column.
   */
  check?(options: O, context: PluginCheckContext): OptionsIssue[];
  register(scope: FastifyInstance, options: O, context: RoutePluginContext): Promise<void> | void;
}

/** A problem that a plugin's `check` found in its options. */
export interface OptionsIssue {
  /** Key path inside the options, such as `['secret']`; empty for the options as a whole. */
  path: (string | number)[];
  message: string;
  /** The fix, when the message alone does not give it. */
  hint?: string;
}

/** Context that a plugin's `check` reads at config load. */
export interface PluginCheckContext {
  registry: PluginLookup;
  env: NodeJS.ProcessEnv;
  /** Folder of the config file, for resolving paths in options. */
  configDir: string;
  /** The route being checked, with every policy it runs, in order. */
  route: RouteConfig;
  /**
   * Validates `value` against `schema` with the config's ajv, applying defaults and type
   * coercion in place. Returns one issue per problem, with paths relative to `value`.
   */
  validate(schema: JsonSchema, value: unknown): OptionsIssue[];
}

/** The result of an authentication attempt. */
export type AuthResult =
  | { ok: true; principal: Principal }
  | {
      ok: false;
      /** 401 for missing or bad credentials, 403 when forbidden, 503 when keys are unavailable. */
      status: 401 | 403 | 503;
      code: string;
      message: string;
      /** Value of the `WWW-Authenticate` header (RFC 9110 section 11.6.1) for the response. */
      challenge?: string;
    };

/** The client behind a request, as an auth scheme established it. */
export interface Principal {
  /**
   * Stable identifier for logs, rate-limit and cache keys: a subject, a key name, a user name.
   * Empty when the credential identifies no one, such as a JWT without a string `sub`. The cache
   * then bypasses a `principal` key instead of sharing one entry among such clients.
   */
  id: string;
  scheme: string;
  claims?: Record<string, unknown>;
}

/** A configured authentication scheme for one route. */
export interface AuthScheme {
  /**
   * Authenticates a request. A scheme may return the result itself when it needs no I/O, as for
   * a token verified earlier, which spares the `auth` policy a promise per request.
   */
  authenticate(request: FastifyRequest): AuthResult | Promise<AuthResult>;
  /**
   * Request headers (lower case) that carry the credential. The `auth` policy removes them before
   * the request is proxied unless the route passes them on; defaults to `['authorization']`.
   */
  credentialHeaders?: readonly string[];
  /** Query parameters that carry the credential, removed from the forwarded URL the same way. */
  credentialQuery?: readonly string[];
  close?(): Promise<void>;
}

/**
 * An authentication scheme that the `auth` policy selects with `scheme:`. Its options are the
 * `auth` options other than the policy's own keys, validated against `optionsSchema`.
 */
export interface AuthSchemePlugin<O = unknown> extends PluginDescriptorBase<'auth-scheme'> {
  /** Checks the scheme's options at config load, as {@link PolicyPlugin.check} does. */
  check?(options: O, context: PluginCheckContext): OptionsIssue[];
  create(options: O, context: RoutePluginContext): AuthScheme | Promise<AuthScheme>;
}

/** The parts of a request that a webhook provider verifies: the exact bytes and the headers. */
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
  | {
      ok: false;
      status?: 401 | 403 | 400 | 415;
      /** Short reason code such as `signature_mismatch`, returned to the sender and logged. */
      reason: string;
      message: string;
      /** Error code of the response; defaults to `PACTOWN_ERR_WEBHOOK_SIGNATURE` for 401 and 403. */
      code?: string;
      /** The delivery id the request claims, for the log line; it is not verified. */
      eventId?: string;
    };

/** A response that the provider sends itself, such as GitHub's `ping` or a registration probe. */
export interface WebhookResponse {
  status: number;
  body: unknown;
  /** When true, the gateway responds here and does not forward the event. */
  final: boolean;
}

/** A configured webhook provider for one route. */
export interface WebhookProvider {
  verify(request: WebhookRequest): WebhookVerification | Promise<WebhookVerification>;
  /** Responds to a non-POST request to the webhook URL (InPost's GET probe). `undefined` means 405. */
  probe?(request: WebhookRequest): WebhookResponse | undefined;
}

/**
 * Settings that every webhook provider receives in `create`, next to its own route keys (those
 * that its `optionsSchema` lists).
 */
export interface WebhookProviderOptions {
  /** The route's secrets, in config order; any one may match (rotation). Never empty when required. */
  secrets: string[];
  /** Seconds a signed timestamp may differ from the gateway clock, in either direction. */
  tolerance: number;
}

/** Input of a provider's `sign`: one secret and the values a provider puts in its headers. */
export interface WebhookSignInput<O = unknown> {
  body: Buffer;
  secret: string;
  /** Seconds since the epoch. */
  timestamp: number;
  /** Delivery id for providers that send one in a header. */
  id: string;
  /** The provider's own route keys, such as InPost's `mode`. */
  options: Partial<O>;
}

/** A problem with a webhook route's provider keys, located below the route. */
export interface WebhookOptionsProblem {
  path: (string | number)[];
  message: string;
}

/**
 * A webhook provider: a signature scheme that a `provider:` route key names. The route's
 * provider keys (those in `optionsSchema.properties`) are validated with the route and passed to
 * `create` together with {@link WebhookProviderOptions}.
 */
export interface WebhookProviderPlugin<O = unknown>
  extends PluginDescriptorBase<'webhook-provider'> {
  /** Environment variable that supplies the secret when a route gives none. */
  secretEnv?: string;
  /** Whether a route must have a secret; defaults to true. */
  requiresSecret?: boolean | ((options: O) => boolean);
  /** Default maximum body size in bytes. */
  defaultBodyLimit?: number;
  /** Returns why `secret` cannot be a key of this provider (a `whsec_` value that is not base64). */
  validateSecret?(secret: string): string | undefined;
  /** Checks a route's provider keys and secrets at start, beyond what `optionsSchema` expresses. */
  check?(options: O & WebhookProviderOptions): WebhookOptionsProblem[];
  /** Whether the route also serves paths below its own, such as `/webhooks/inpost/<token>`. */
  subpaths?: boolean | ((options: O) => boolean);
  /** Builds the headers the provider would send for a body, for `pactown sign` and tests. */
  sign?(input: WebhookSignInput<O>): Record<string, string>;
  create(
    options: O & WebhookProviderOptions,
    context: RoutePluginContext,
  ): WebhookProvider | Promise<WebhookProvider>;
}

/** One event produced by an event source. */
export interface SourceEvent {
  /** The source's event id, the de-duplication key. */
  id: string;
  type: string;
  /** The bytes delivered to the target, usually the event as JSON. */
  body: Buffer;
  /** Headers sent to the target with the body, lower-case names. */
  headers: Record<string, string>;
}

/**
 * A running event source (a poller). `emit` resolves once every event of the batch was accepted
 * (stored for delivery, or found to be a duplicate) and rejects otherwise, so a source saves its
 * cursor only after `emit` resolved.
 */
export interface EventSource {
  /** Starts polling in the background; resolves once the source runs. */
  start(emit: (events: SourceEvent[]) => Promise<void>): Promise<void>;
  /** Stops polling; resolves after the poll in progress, if any, has ended. */
  stop(): Promise<void>;
}

/** Durable small state of an event source, such as its cursor, scoped to that source. */
export interface SourceStateStore {
  get(key: string): Promise<string | undefined>;
  set(key: string, value: string): Promise<void>;
  delete(key: string): Promise<void>;
}

/** Context of an event source: the plugin context plus its durable state. */
export interface EventSourceContext extends PluginContext {
  /** Name of the source entry in `sources:`, unique in the config. */
  sourceName: string;
  /** Cursors and tokens that must survive a restart, kept in the gateway's store. */
  state: SourceStateStore;
}

export interface EventSourcePlugin<O = unknown> extends PluginDescriptorBase<'event-source'> {
  create(options: O, context: EventSourceContext): EventSource | Promise<EventSource>;
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
export type { FastifyInstance, FastifyReply, FastifyRequest, HookHandlerDoneFunction };

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
