import type { FastifyInstance } from 'fastify';
import type { GatewayConfig } from '../config/types.js';
import { existingDeliveryRuntime } from '../delivery/runtime.js';
import { readAdminToken } from '../delivery/settings.js';
import { errorBody } from '../errors.js';
import { bearerTokenCheck } from './auth.js';
import { registerDeliveryEndpoints } from './deliveries.js';

/**
 * Adds the admin API under `/admin/`, behind `Authorization: Bearer <admin.token>`. Without a
 * token in the config nothing is added, so `/admin/...` is a plain 404.
 */
export function registerAdminApi(app: FastifyInstance, config: GatewayConfig): void {
  const token = readAdminToken(config);
  if (!token) {
    return;
  }
  app.register(
    async (scope) => {
      scope.addHook('onRequest', bearerTokenCheck(token));
      acceptEmptyJson(scope);
      const runtime = existingDeliveryRuntime(config);
      if (runtime) {
        registerDeliveryEndpoints(scope, runtime);
        return;
      }
      scope.all('/deliveries*', async (_request, reply) =>
        reply
          .code(404)
          .send(
            errorBody(
              'PACTOWN_ERR_DELIVERY_NOT_CONFIGURED',
              'this gateway queues nothing; add a storage: section or a delivery: queue route',
              '/admin/deliveries',
            ),
          ),
      );
    },
    { prefix: '/admin' },
  );
}

/** Parses JSON bodies, taking an empty one as `{}` so `curl -X POST` with the header works. */
function acceptEmptyJson(scope: FastifyInstance): void {
  scope.removeContentTypeParser('application/json');
  scope.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) => {
    const text = String(body).trim();
    if (text === '') {
      done(null, {});
      return;
    }
    try {
      done(null, JSON.parse(text));
    } catch {
      const error = new Error('the body is not valid JSON') as Error & { statusCode: number };
      error.statusCode = 400;
      done(error, undefined);
    }
  });
}
