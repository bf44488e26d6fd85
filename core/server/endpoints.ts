import type { FastifyInstance } from 'fastify';
import type { GatewayConfig, RouteConfig } from '../config/types.js';
import { errorBody } from '../errors.js';
import type { PluginRegistry } from '../registry.js';
import { redactWriteOnly } from './redact.js';
import type { GatewayStats } from './stats.js';

/** Builds the `/routes` entry of a route, with secrets redacted. */
export function describeRoute(
  route: RouteConfig,
  registry: PluginRegistry,
  redact: (value: unknown) => unknown,
): Record<string, unknown> {
  const kind = registry.routeKind(route.kind);
  const described = kind?.describe?.(route) ?? { ...route.raw };
  delete described.plugins;
  delete described.exclude;
  for (const policy of registry.list('policy')) {
    if (policy.routeKey) {
      delete described[policy.routeKey];
    }
  }
  return {
    ...(redact({ ...described, path: route.path }) as Record<string, unknown>),
    kind: route.kind,
    plugins: route.policies.map((ref) => {
      const policy = registry.get('policy', ref.name);
      const options = ref.options ?? {};
      return {
        name: ref.name,
        ...(ref.global ? { global: true } : {}),
        options: redact(
          redactWriteOnly(policy?.describeOptions?.(options) ?? options, policy?.optionsSchema),
        ),
      };
    }),
  };
}

/** Adds `/health`, `/stats` and `/routes`. */
export function registerServiceEndpoints(
  app: FastifyInstance,
  config: GatewayConfig,
  registry: PluginRegistry,
  stats: GatewayStats,
  redact: (value: unknown) => unknown,
): void {
  const routeTable = config.routes.map((route) => describeRoute(route, registry, redact));
  app.get('/health', async () => ({ status: 'ok', routes: config.routes.length }));
  app.get('/stats', async () => stats.snapshot());
  app.get('/routes', async () => ({ routes: routeTable }));
  for (const path of ['/health', '/stats', '/routes']) {
    app.route({
      method: ['POST', 'PUT', 'PATCH', 'DELETE'],
      url: path,
      handler: (_request, reply) => {
        reply
          .code(405)
          .header('allow', 'GET, HEAD')
          .send(errorBody('PACTOWN_ERR_METHOD_NOT_ALLOWED', `${path} serves GET and HEAD only`));
      },
    });
  }
}
