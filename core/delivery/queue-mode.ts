import { errorBody } from '../errors.js';
import { unboundFields } from '../log-fields.js';
import { dedupeKey, dedupeWindowMs } from '../webhooks/dedupe.js';
import type {
  DeliveryContext,
  DeliveryMode,
  DeliveryOutcome,
  VerifiedEvent,
} from '../webhooks/delivery.js';
import { forwardHeaders } from '../webhooks/forward.js';
import { type DeliveryRuntime, deliveryRuntimeFor, newDeliveryId } from './runtime.js';
import { type QueueRouteSettings, queueRouteProperties } from './settings.js';
import type { EnqueueResult, NewDelivery } from './store.js';

/** Seconds a provider is asked to wait before retrying when the store failed. */
const STORE_RETRY_AFTER_SECONDS = 5;

interface QueueRoute {
  context: DeliveryContext;
  runtime: DeliveryRuntime;
  settings: QueueRouteSettings;
  target: string;
  windowMs: number;
}

/**
 * `delivery: queue`: commits each verified event to the delivery store, de-duplicated on its
 * event id in the same transaction, and responds 202 `{"status":"queued","delivery_id":...}`. A
 * worker delivers it to `target` with retries. When the commit fails the provider gets a 503, so
 * it sends the event again.
 */
export const queueDeliveryMode: DeliveryMode = {
  name: 'queue',
  routeProperties: queueRouteProperties,
  async prepare(context) {
    const target = context.route.raw.target as string | undefined;
    if (!target) {
      throw new Error(
        `route ${context.route.path} has delivery: queue but no target; add target: URL`,
      );
    }
    const runtime = deliveryRuntimeFor(context.config, context.log, context.stats);
    const route: QueueRoute = {
      context,
      runtime,
      settings: runtime.addRoute(context.route),
      target,
      windowMs: dedupeWindowMs(context.route),
    };
    return (event) => enqueueEvent(route, event);
  },
};

async function enqueueEvent(route: QueueRoute, event: VerifiedEvent): Promise<DeliveryOutcome> {
  const { context, runtime } = route;
  const delivery = newDelivery(route, event);
  const key = dedupeKey(event);
  const fields = unboundFields(context.log, {
    route: event.route,
    provider: event.provider,
    event_id: event.eventId,
  });
  let result: EnqueueResult;
  try {
    result = await runtime.store.enqueue(
      delivery,
      key === undefined ? undefined : { key, ttlMs: route.windowMs },
    );
  } catch (error) {
    context.log.error({ ...fields, err: error }, 'storing a webhook for delivery failed');
    return {
      status: 503,
      headers: { 'retry-after': String(STORE_RETRY_AFTER_SECONDS) },
      body: errorBody(
        'PACTOWN_ERR_DELIVERY_STORE_UNAVAILABLE',
        'the event could not be stored for delivery; send it again later',
        event.route,
      ),
    };
  }
  if (result.status === 'duplicate') {
    context.stats.increment('webhooks_duplicate', event.route);
    context.log.info({ ...fields, delivery: result.id }, 'skipped a duplicate webhook');
    return { status: 200, body: { status: 'duplicate', delivery_id: result.id } };
  }
  context.stats.increment('deliveries_queued', event.route);
  runtime.worker.wake();
  return { status: 202, body: { status: 'queued', delivery_id: result.id } };
}

function newDelivery(route: QueueRoute, event: VerifiedEvent): NewDelivery {
  const target = event.target ?? route.target;
  return {
    id: newDeliveryId(),
    route: event.route,
    provider: event.provider,
    eventId: event.eventId,
    eventType: event.eventType,
    target,
    body: event.body,
    headers: forwardHeaders(event),
    receivedAt: event.receivedAt,
    orderKey: route.settings.ordered ? target : undefined,
    maxAgeMs: route.settings.maxAgeMs,
  };
}
