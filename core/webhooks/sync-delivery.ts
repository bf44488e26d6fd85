import { durationSchema, parseDuration } from '../config/units.js';
import { errorBody } from '../errors.js';
import { unboundFields } from '../log-fields.js';
import { dedupeKey, dedupeWindowMs } from './dedupe.js';
import type { DeliveryContext, DeliveryMode, DeliveryOutcome, VerifiedEvent } from './delivery.js';
import { TargetClient, type TargetResponse } from './forward.js';

/** Failure codes of undici that mean the target did not respond in time. */
const TIMEOUT_CODES = new Set([
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_CONNECT_TIMEOUT',
]);

interface SyncRoute {
  context: DeliveryContext;
  client?: TargetClient;
  windowMs: number;
}

/**
 * `delivery: sync`: forwards each verified event to `target` at once and responds to the
 * provider with the target's status. The event id is claimed in the idempotency store before forwarding
 * and released when the target fails, so the provider's retry is delivered, not dropped as a
 * duplicate. A route without `target` answers `{"status":"accepted"}`.
 */
export const syncDeliveryMode: DeliveryMode = {
  name: 'sync',
  routeProperties: { timeout: durationSchema },
  async prepare(context) {
    const raw = context.route.raw;
    const timeoutMs =
      raw.timeout === undefined
        ? context.config.defaultTimeout
        : parseDuration(raw.timeout as number | string);
    const target = raw.target as string | undefined;
    const client = target ? new TargetClient(target, timeoutMs) : undefined;
    if (client) {
      context.onClose(() => client.close());
    }
    const route: SyncRoute = { context, client, windowMs: dedupeWindowMs(context.route) };
    return (event) => deliverSync(route, event);
  },
};

async function deliverSync(route: SyncRoute, event: VerifiedEvent): Promise<DeliveryOutcome> {
  const { context, client } = route;
  const key = dedupeKey(event);
  if (key !== undefined && !(await context.stores.idempotency.claim(key, route.windowMs))) {
    context.stats.increment('webhooks_duplicate', event.route);
    context.log.info(
      unboundFields(context.log, {
        route: event.route,
        provider: event.provider,
        event_id: event.eventId,
      }),
      'skipped a duplicate webhook',
    );
    return { status: 200, body: { status: 'duplicate' } };
  }
  if (!client) {
    return { status: 200, body: { status: 'accepted', provider: event.provider } };
  }
  let response: TargetResponse;
  try {
    response = await client.post(event);
  } catch (error) {
    await releaseClaim(route, key);
    return targetFailure(route, event, error as Error & { code?: string });
  }
  if (response.status < 200 || response.status >= 300) {
    await releaseClaim(route, key);
    context.log.warn(
      unboundFields(context.log, {
        route: event.route,
        provider: event.provider,
        event_id: event.eventId,
        status: response.status,
      }),
      'webhook target rejected the event',
    );
  }
  return relayResponse(response);
}

/** Forgets a claimed event id, so the provider's retry of a failed delivery goes through. */
async function releaseClaim(route: SyncRoute, key: string | undefined): Promise<void> {
  if (key !== undefined) {
    await route.context.stores.idempotency.release(key);
  }
}

function targetFailure(
  route: SyncRoute,
  event: VerifiedEvent,
  error: Error & { code?: string },
): DeliveryOutcome {
  const timedOut = TIMEOUT_CODES.has(error.code ?? '');
  const code = timedOut ? 'PACTOWN_ERR_UPSTREAM_TIMEOUT' : 'PACTOWN_ERR_UPSTREAM_UNAVAILABLE';
  const cause = error.code ?? error.message;
  route.context.log.error(
    unboundFields(route.context.log, {
      route: event.route,
      provider: event.provider,
      event_id: event.eventId,
      code,
      cause,
    }),
    'webhook delivery to the target failed',
  );
  const message = timedOut
    ? 'webhook target did not respond in time'
    : `webhook target request failed (${cause})`;
  return { status: timedOut ? 504 : 502, body: errorBody(code, message, event.route) };
}

function relayResponse(response: TargetResponse): DeliveryOutcome {
  // An empty body, or one over the relay limit, is relayed as an empty body with the status.
  if (response.body === undefined || response.body.length === 0) {
    return { status: response.status, body: '' };
  }
  return {
    status: response.status,
    body: response.body,
    headers: { 'content-type': response.contentType ?? 'application/octet-stream' },
  };
}
