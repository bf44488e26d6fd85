import type { FastifyReply, FastifyRequest } from 'fastify';
import { errorBody } from '../errors.js';
import type { WebhookProvider, WebhookResponse, WebhookVerification } from '../plugin-api.js';
import type { GatewayStats } from '../server/stats.js';
import type { DeliveryOutcome, VerifiedEvent } from './delivery.js';
import { defaultRejectionCode } from './errors.js';
import { toWebhookRequest } from './request.js';

/** Everything the handlers of one webhook route need. */
export interface WebhookEndpoint {
  /** The route path, as in `/routes` and in error bodies. */
  route: string;
  providerName: string;
  provider: WebhookProvider;
  target?: string;
  stats: GatewayStats;
  deliver(event: VerifiedEvent): Promise<DeliveryOutcome>;
}

type Rejection = Extract<WebhookVerification, { ok: false }>;

/** Maximum length of a delivery id in a log line, because the value comes from an unverified header. */
const MAX_LOGGED_ID = 128;

/**
 * Handles a provider's POST: verifies the raw bytes, sends a provider's own response (GitHub's
 * `ping`), and hands every other verified event to the route's delivery mode.
 */
export function receiveWebhook(endpoint: WebhookEndpoint) {
  return async (request: FastifyRequest, reply: FastifyReply) => {
    const input = toWebhookRequest(request);
    const verification = await endpoint.provider.verify(input);
    if (!verification.ok) {
      return rejectWebhook(endpoint, request, reply, verification);
    }
    endpoint.stats.increment('webhooks_received', endpoint.route);
    if (verification.response?.final) {
      return sendResponse(reply, verification.response);
    }
    const outcome = await endpoint.deliver({
      provider: endpoint.providerName,
      route: endpoint.route,
      eventId: verification.eventId,
      eventType: verification.eventType,
      body: input.body,
      headers: input.headers,
      receivedAt: Date.now(),
      target: endpoint.target,
    });
    // A provider that needs its own response (not final) gets it once the event was accepted.
    if (verification.response && outcome.status >= 200 && outcome.status < 300) {
      return sendResponse(reply, verification.response);
    }
    return sendOutcome(reply, outcome);
  };
}

/** Handles a non-POST request: sends the provider's probe response, else 405. */
export function probeWebhook(endpoint: WebhookEndpoint) {
  return async (request: FastifyRequest, reply: FastifyReply) => {
    const response = endpoint.provider.probe?.(toWebhookRequest(request));
    if (response) {
      return sendResponse(reply, response);
    }
    return reply
      .code(405)
      .header('allow', 'POST')
      .send(
        errorBody(
          'PACTOWN_ERR_METHOD_NOT_ALLOWED',
          `${request.method} is not allowed on a webhook route; providers send POST`,
          endpoint.route,
        ),
      );
  };
}

function rejectWebhook(
  endpoint: WebhookEndpoint,
  request: FastifyRequest,
  reply: FastifyReply,
  rejection: Rejection,
) {
  const status = rejection.status ?? 401;
  const code = rejection.code ?? defaultRejectionCode(status);
  endpoint.stats.increment('webhooks_rejected', endpoint.route);
  request.log.warn(
    {
      route: endpoint.route,
      provider: endpoint.providerName,
      event_id: rejection.eventId?.slice(0, MAX_LOGGED_ID),
      reason: rejection.reason,
      status,
    },
    'rejected a webhook',
  );
  return reply
    .code(status)
    .send(errorBody(code, rejection.message, endpoint.route, { reason: rejection.reason }));
}

function sendResponse(reply: FastifyReply, response: WebhookResponse) {
  return reply.code(response.status).send(response.body);
}

function sendOutcome(reply: FastifyReply, outcome: DeliveryOutcome) {
  reply.code(outcome.status);
  if (outcome.headers) {
    reply.headers(outcome.headers);
  }
  return reply.send(outcome.body);
}
