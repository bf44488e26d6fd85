import 'reflect-metadata';
import type { AddressInfo } from 'node:net';
import Fastify, {
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyReply,
  LogController,
} from 'fastify';
import fastifyPlugin from 'fastify-plugin';
import { type DependencyContainer, inject, injectable, container as rootContainer } from 'tsyringe';
import { registerAdminApi } from '../admin/index.js';
import type { LoadedConfig } from '../config/load.js';
import type { GatewayConfig, RouteConfig } from '../config/types.js';
import { attachDelivery } from '../delivery/attach.js';
import { errorBody } from '../errors.js';
import { REDACTED_LOG_PATHS } from '../log-fields.js';
import type { PluginContext, RoutePluginContext } from '../plugin-api.js';
import { namedPlugin } from '../proxy/plugin-name.js';
import { PluginRegistry } from '../registry.js';
import type { RouteKind, RouteRuntime } from '../routes/kind.js';
import { handleClientError, rejectConnect } from './client-errors.js';
import { registerServiceEndpoints } from './endpoints.js';
import { installErrorHandlers, routeOf } from './error-handler.js';
import { continueWhenBodyIsRead } from './expect-continue.js';
import { createRedactor } from './redact.js';
import { originForm } from './request-target.js';
import { GatewayStats } from './stats.js';
import { StoreSet } from './stores.js';

/** Injection token of the validated config. */
export const GATEWAY_CONFIG = Symbol('GatewayConfig');
/** Injection token of the environment the config was read with. */
export const GATEWAY_ENV = Symbol('GatewayEnv');

/** Options of {@link createGateway}. */
export interface GatewayOptions {
  /** A pino logger, `false` for none, or pino options; defaults to JSON logs at `server.log_level`. */
  logger?: FastifyBaseLogger | boolean | Record<string, unknown>;
  env?: NodeJS.ProcessEnv;
}

/** Builds the Fastify app of one gateway instance from its config. */
@injectable()
export class GatewayBuilder {
  private readonly closeTasks: (() => Promise<void> | void)[] = [];

  constructor(
    private readonly registry: PluginRegistry,
    private readonly stats: GatewayStats,
    @inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
    @inject(GATEWAY_ENV) private readonly env: NodeJS.ProcessEnv,
  ) {}

  async build(options: GatewayOptions, variables: string[]): Promise<FastifyInstance> {
    const { server } = this.config;
    const app = Fastify({
      ...this.loggerOption(options),
      trustProxy: server.trustProxy.length > 0 ? server.trustProxy : false,
      bodyLimit: server.bodyLimit,
      requestTimeout: server.requestTimeout,
      keepAliveTimeout: server.keepAliveTimeout,
      // Request start and end lines cost throughput; errors are still logged once each.
      logController: new LogController({ disableRequestLogging: true }),
      return503OnClosing: true,
      routerOptions: { maxParamLength: 8192 },
      requestIdHeader: 'x-request-id',
      clientErrorHandler: handleClientError,
      rewriteUrl: originForm,
      // A malformed URL or content type fails before routing, so it gets the gateway's error shape here.
      frameworkErrors: (error, request, reply: FastifyReply) => {
        // Fastify's message for a bad URL quotes it whole, and the query string may hold a token.
        const message =
          error.code === 'FST_ERR_BAD_URL'
            ? 'the URL path has an invalid percent-encoding, such as % not followed by two hex digits'
            : error.message;
        request.log.warn({ code: error.code, reason: message }, 'rejected request');
        reply.code(error.statusCode ?? 400).send(errorBody('PACTOWN_ERR_BAD_REQUEST', message));
      },
    });
    app.server.headersTimeout = server.headersTimeout;
    app.server.on('connect', rejectConnect.bind(app));
    continueWhenBodyIsRead(app.server);
    installErrorHandlers(app);
    this.countRequests(app);
    if (server.accessLog) {
      this.logResponses(app);
    }
    const redact = createRedactor(this.env, variables);
    const stores: StoreSet = new StoreSet(
      this.registry,
      this.config,
      (): PluginContext => this.pluginContext(app.log, stores),
    );
    this.closeTasks.push(() => stores.close());
    registerServiceEndpoints(app, this.config, this.registry, this.stats, redact);
    attachDelivery(app, {
      config: this.config,
      registry: this.registry,
      stats: this.stats,
      stores,
    });
    registerAdminApi(app, this.config);
    const runtime: RouteRuntime = {
      config: this.config,
      registry: this.registry,
      stats: this.stats,
      stores,
      env: this.env,
      onClose: (task) => this.closeTasks.push(task),
    };
    app.decorateRequest('pactownRoute', null);
    const shared = new Map<RouteKind, RouteConfig[]>();
    for (const route of this.config.routes) {
      const kind = this.registry.routeKind(route.kind)!;
      if (kind.registerShared && kind.canShare?.(route, this.config.routes)) {
        const routes = shared.get(kind) ?? [];
        routes.push(route);
        shared.set(kind, routes);
        continue;
      }
      await app.register(
        namedPlugin(`pactown-route ${route.path}`, (scope) =>
          this.registerRoute(scope, route, runtime),
        ),
        { prefix: kind.scopePrefix?.(route) ?? '' },
      );
    }
    for (const [kind, routes] of shared) {
      await app.register(
        namedPlugin(`pactown-shared-${kind.name}-routes`, (scope) =>
          kind.registerShared!(scope, routes, runtime),
        ),
      );
    }
    app.addHook('onClose', async () => {
      for (const task of this.closeTasks.reverse()) {
        await task();
      }
    });
    return app;
  }

  private async registerRoute(scope: FastifyInstance, route: RouteConfig, runtime: RouteRuntime) {
    scope.addHook('onRoute', (options) => {
      options.config = { ...(options.config as object), pactownRoute: route.path };
    });
    const log = scope.log.child({ route: route.path });
    for (const ref of route.policies) {
      const policy = this.registry.get('policy', ref.name)!;
      const context: RoutePluginContext = {
        ...this.pluginContext(log.child({ plugin: ref.name }), runtime.stores),
        route,
      };
      // fastify-plugin keeps the policy's hooks in the route scope instead of a child context,
      // and awaiting each one makes the hooks run in the order the config lists the policies.
      await scope.register(
        fastifyPlugin(async (target) => policy.register(target, ref.options, context), {
          name: `pactown-policy-${ref.name}`,
        }),
      );
    }
    const kind = this.registry.routeKind(route.kind)!;
    await kind.register(scope, route, runtime);
  }

  private pluginContext(log: FastifyBaseLogger, stores: RouteRuntime['stores']): PluginContext {
    return {
      log,
      stats: this.stats,
      configDir: this.config.dir,
      registry: this.registry,
      stores,
      env: this.env,
    };
  }

  /** Logs each response at info: method, path, status, route, duration and client address. */
  private logResponses(app: FastifyInstance): void {
    app.addHook('onResponse', (request, reply, done) => {
      const url = request.raw.url ?? '/';
      const query = url.indexOf('?');
      request.log.info(
        {
          method: request.method,
          // Only the path: a query string may carry a token.
          path: query === -1 ? url : url.slice(0, query),
          status: reply.statusCode,
          route: routeOf(request),
          duration_ms: Math.round(reply.elapsedTime * 10) / 10,
          remote: request.ip,
        },
        'request completed',
      );
      done();
    });
  }

  private countRequests(app: FastifyInstance): void {
    // A callback hook, because a promise per request for two counter updates costs throughput.
    app.addHook('onResponse', (request, reply, done) => {
      const route = routeOf(request);
      this.stats.increment('requests_total', route);
      if (reply.statusCode >= 500) {
        this.stats.increment('errors', route);
      }
      done();
    });
  }

  private loggerOption(options: GatewayOptions) {
    const { logger } = options;
    if (logger === false) {
      return { logger: false };
    }
    if (logger && typeof logger === 'object' && 'child' in logger) {
      return { loggerInstance: logger as FastifyBaseLogger };
    }
    return {
      logger: {
        level: this.config.server.logLevel,
        redact: { paths: REDACTED_LOG_PATHS, censor: '***' },
        ...(typeof logger === 'object' ? logger : {}),
      },
    };
  }
}

/** A running or ready-to-run gateway instance. */
export class Gateway {
  constructor(
    readonly app: FastifyInstance,
    readonly config: GatewayConfig,
    readonly container: DependencyContainer,
  ) {}

  /** Starts listening; `port` overrides the config (0 picks a free port). Returns the base URL. */
  async listen(port = this.config.server.port, host = this.config.server.host): Promise<string> {
    await this.app.listen({ port, host });
    const address = this.app.server.address() as AddressInfo;
    const shownHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
    return `http://${shownHost}:${address.port}`;
  }

  /**
   * Stops accepting connections, waits for in-flight requests up to `server.shutdown_timeout`,
   * then closes the connections that remain. WebSocket routes close their connections with 1001
   * once the in-flight HTTP requests have finished, from a preClose hook in
   * core/proxy/websocket.ts, and a peer gets 5 s to respond to that close frame.
   */
  async close(): Promise<void> {
    const timer = setTimeout(() => {
      this.app.log.warn('shutdown timeout reached, closing the remaining connections');
      this.app.server.closeAllConnections();
    }, this.config.server.shutdownTimeout);
    timer.unref();
    try {
      await this.app.close();
    } finally {
      clearTimeout(timer);
      this.container.dispose();
    }
  }
}

/** Builds a gateway from a loaded config, in its own tsyringe container. */
export async function createGateway(
  loaded: LoadedConfig,
  options: GatewayOptions = {},
): Promise<Gateway> {
  const container = rootContainer.createChildContainer();
  container.register(GATEWAY_CONFIG, { useValue: loaded.config });
  container.register(GATEWAY_ENV, { useValue: options.env ?? process.env });
  container.register(PluginRegistry, { useValue: loaded.registry });
  container.registerSingleton(GatewayStats);
  const builder = container.resolve(GatewayBuilder);
  const app = await builder.build(options, loaded.variables);
  await app.ready();
  return new Gateway(app, loaded.config, container);
}
