import type { FastifyInstance } from 'fastify';
import type { RouteConfig } from '../config/types.js';
import type { RoutePluginContext } from '../plugin-api.js';
import type { PluginRegistry } from '../registry.js';
import type { RouteKind, RouteRuntime } from '../routes/kind.js';
import { checkWebhookRoute } from './check.js';
import type { DeliveryContext } from './delivery.js';
import { describeWebhookRoute } from './describe.js';
import { probeWebhook, receiveWebhook, type WebhookEndpoint } from './handler.js';
import { useRawBodyParser } from './raw-body.js';
import { webhookRouteSchema } from './schema.js';
import {
  providerCreateOptions,
  readWebhookSettings,
  servesSubpaths,
  type WebhookSettings,
  webhookPath,
} from './settings.js';

/** Methods handled by the provider's probe (InPost's registration GET); without one they get 405. */
const PROBE_METHODS = ['GET', 'PUT', 'PATCH', 'DELETE'] as const;

/**
 * Creates the webhook route kind for one registry: routes with a `provider:` key, served at
 * `path:` or `/webhooks/<provider>`, verified by the provider plugin and handed to the route's
 * delivery mode (`sync` unless `delivery:` names another).
 */
export function createWebhookRouteKind(registry: PluginRegistry): RouteKind {
  return {
    name: 'webhook',
    discriminator: 'provider',
    schema: webhookRouteSchema,
    defaultPath: webhookPath,
    check: checkWebhookRoute,
    describe: (route) => describeWebhookRoute(route, registry),
    register: registerWebhookRoute,
  };
}

async function registerWebhookRoute(
  scope: FastifyInstance,
  route: RouteConfig,
  runtime: RouteRuntime,
): Promise<void> {
  const settings = readWebhookSettings(route.raw, runtime.registry, runtime.env);
  const log = scope.log.child({ route: route.path, provider: settings.plugin.name });
  const endpoint = await prepareEndpoint(route, settings, runtime, log);
  const path = route.path.length > 1 ? route.path.replace(/\/+$/, '') : route.path;
  // A `server.body_limit` that the config sets applies to every route without its own.
  const serverLimit = (runtime.config.raw.server as { body_limit?: unknown } | undefined)
    ?.body_limit;
  const limit =
    route.raw.body_limit === undefined && serverLimit !== undefined
      ? runtime.config.server.bodyLimit
      : settings.bodyLimit;
  await scope.register(async (inner) => {
    useRawBodyParser(inner, limit);
    addHandlers(inner, path, endpoint, limit);
    if (servesSubpaths(settings.plugin, settings.providerOptions)) {
      addHandlers(inner, path === '/' ? '/*' : `${path}/*`, endpoint, limit);
    }
  });
}

async function prepareEndpoint(
  route: RouteConfig,
  settings: WebhookSettings,
  runtime: RouteRuntime,
  log: FastifyInstance['log'],
): Promise<WebhookEndpoint> {
  const pluginContext: RoutePluginContext = {
    log,
    stats: runtime.stats,
    configDir: runtime.config.dir,
    registry: runtime.registry,
    stores: runtime.stores,
    env: runtime.env,
    route,
  };
  const provider = await settings.plugin.create(providerCreateOptions(settings), pluginContext);
  const mode = runtime.registry.deliveryMode(settings.delivery);
  if (!mode) {
    throw new Error(
      `delivery mode "${settings.delivery}" of route ${route.path} is not registered`,
    );
  }
  const deliveryContext: DeliveryContext = {
    config: runtime.config,
    route,
    stores: runtime.stores,
    stats: runtime.stats,
    log,
    onClose: runtime.onClose,
  };
  return {
    route: route.path,
    providerName: settings.plugin.name,
    provider,
    target: settings.target,
    stats: runtime.stats,
    deliver: await mode.prepare(deliveryContext),
  };
}

function addHandlers(
  scope: FastifyInstance,
  url: string,
  endpoint: WebhookEndpoint,
  bodyLimit: number,
): void {
  // The route carries the parser's limit too, so a 413 can name it.
  scope.post(url, { bodyLimit }, receiveWebhook(endpoint));
  scope.route({ method: [...PROBE_METHODS], url, handler: probeWebhook(endpoint) });
}
