import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { DeliveryFilterError } from '../delivery/errors.js';
import {
  FILTER_KEYS,
  listDeliveries,
  PAGE_KEYS,
  parseDeliveryFilter,
  parsePage,
  rejectUnknownKeys,
  replayDeliveries,
  replayDelivery,
  showDelivery,
} from '../delivery/operations.js';
import type { DeliveryRuntime } from '../delivery/runtime.js';
import { errorBody } from '../errors.js';

const ROUTE = '/admin/deliveries';

/** Seconds a client should wait before it sends the request again after the store failed. */
const STORE_RETRY_AFTER_SECONDS = 5;

/**
 * Sends 400 for a filter error. Any other failure comes from the delivery store (Redis
 * unreachable, for instance), so it gets 503 and one log line.
 */
function sendError(request: FastifyRequest, reply: FastifyReply, error: unknown) {
  if (error instanceof DeliveryFilterError) {
    return reply.code(400).send(errorBody(error.code, error.message, ROUTE));
  }
  request.log.error({ err: error }, 'reading the delivery store failed');
  const reason = (error as Error)?.message ?? String(error);
  return reply
    .code(503)
    .header('retry-after', String(STORE_RETRY_AFTER_SECONDS))
    .send(
      errorBody(
        'PACTOWN_ERR_DELIVERY_STORE_UNAVAILABLE',
        `the delivery store failed (${reason}); try again once it answers`,
        ROUTE,
      ),
    );
}

/** Adds the delivery endpoints of the admin API to `scope` (prefix `/admin`). */
export function registerDeliveryEndpoints(scope: FastifyInstance, runtime: DeliveryRuntime): void {
  const { store } = runtime;

  scope.get('/deliveries', async (request, reply) => {
    const query = request.query as Record<string, unknown>;
    try {
      rejectUnknownKeys(query, [...FILTER_KEYS, ...PAGE_KEYS]);
      return await listDeliveries(store, parseDeliveryFilter(query), parsePage(query));
    } catch (error) {
      return sendError(request, reply, error);
    }
  });

  scope.get('/deliveries/:id', async (request, reply) => {
    const { id } = request.params as { id: string };
    let shown: Awaited<ReturnType<typeof showDelivery>>;
    try {
      shown = await showDelivery(store, id);
    } catch (error) {
      return sendError(request, reply, error);
    }
    if (!shown) {
      return reply
        .code(404)
        .send(errorBody('PACTOWN_ERR_DELIVERY_NOT_FOUND', `no delivery has id "${id}"`, ROUTE));
    }
    return shown;
  });

  scope.post('/deliveries/:id/replay', async (request, reply) => {
    const { id } = request.params as { id: string };
    let outcome: Awaited<ReturnType<typeof replayDelivery>>;
    try {
      outcome = await replayDelivery(store, id, runtime.now());
    } catch (error) {
      return sendError(request, reply, error);
    }
    if (outcome === 'not_found') {
      return reply
        .code(404)
        .send(errorBody('PACTOWN_ERR_DELIVERY_NOT_FOUND', `no delivery has id "${id}"`, ROUTE));
    }
    if (outcome === 'in_flight') {
      return reply
        .code(409)
        .send(
          errorBody(
            'PACTOWN_ERR_DELIVERY_IN_FLIGHT',
            `delivery "${id}" has an attempt in flight; replay it after the attempt ends`,
            ROUTE,
          ),
        );
    }
    request.log.info({ delivery: id }, 'replaying a delivery');
    runtime.worker.wake();
    return reply.code(202).send({ status: 'replayed', replayed: 1, delivery_id: id });
  });

  scope.post('/deliveries/replay', async (request, reply) => {
    const body = (request.body ?? {}) as Record<string, unknown>;
    if (typeof body !== 'object' || Array.isArray(body)) {
      return sendError(
        request,
        reply,
        new DeliveryFilterError('the body must be a JSON object of filters'),
      );
    }
    try {
      rejectUnknownKeys(body, FILTER_KEYS);
      const filter = parseDeliveryFilter(body);
      const replayed = await replayDeliveries(store, filter, runtime.now());
      request.log.info({ filter, replayed }, 'replaying deliveries by filter');
      runtime.worker.wake();
      return reply.code(202).send({ status: 'replayed', replayed });
    } catch (error) {
      return sendError(request, reply, error);
    }
  });
}
