import type { FastifyInstance } from 'fastify';
import type { GatewayConfig, RouteConfig } from '../config/types.js';
import type { GatewayStores, JsonSchema } from '../plugin-api.js';
import type { PluginRegistry } from '../registry.js';
import type { GatewayStats } from '../server/stats.js';

/** A config problem found by a route kind, located by its key path inside the route. */
export interface RouteIssue {
  /** Key path below the route, such as `['secret']`; empty for the route itself. */
  path: (string | number)[];
  message: string;
}

/** Services that a route kind needs at start-up to serve its routes. */
export interface RouteRuntime {
  config: GatewayConfig;
  registry: PluginRegistry;
  stats: GatewayStats;
  stores: GatewayStores;
  env: NodeJS.ProcessEnv;
  /** Runs `task` when the gateway closes, after in-flight requests finish. */
  onClose(task: () => Promise<void> | void): void;
}

/**
 * A kind of route, such as a proxy route or a webhook route. The kind whose `discriminator` key a
 * route carries serves it; a route with none is served by the kind without a discriminator.
 */
export interface RouteKind {
  name: string;
  discriminator?: string;
  /**
   * Returns the complete JSON Schema of a route of this kind. `common` contains the properties that
   * every route accepts (path, plugins, exclude and the policy shorthands).
   */
  schema(common: Record<string, JsonSchema>, registry: PluginRegistry): JsonSchema;
  /** The path to use when the route gives none (a webhook route's `/webhooks/<provider>`). */
  defaultPath?(raw: Record<string, unknown>): string | undefined;
  /** Checks that need more than the schema, such as a secret that resolves to an empty string. */
  check?(
    raw: Record<string, unknown>,
    registry: PluginRegistry,
    env: NodeJS.ProcessEnv,
  ): RouteIssue[];
  /** Copies the route for `/routes`, with secrets replaced by `"***"`. */
  describe?(route: RouteConfig): Record<string, unknown>;
  /**
   * Path prefix of the route's Fastify scope, so that `register` adds its handlers relative to
   * it. Without it the scope has no prefix.
   */
  scopePrefix?(route: RouteConfig): string;
  /** Adds the route's handlers to `scope`, which already carries the route's policies. */
  register(scope: FastifyInstance, route: RouteConfig, runtime: RouteRuntime): Promise<void>;
  /**
   * Tells whether the route can be served by one handler shared with the other such routes of
   * this kind, instead of Fastify routes of its own, which cost memory per route. `routes` is the
   * gateway's whole route list.
   */
  canShare?(route: RouteConfig, routes: readonly RouteConfig[]): boolean;
  /** Adds the one handler that serves every route for which `canShare` returned true. */
  registerShared?(
    scope: FastifyInstance,
    routes: RouteConfig[],
    runtime: RouteRuntime,
  ): Promise<void>;
}
