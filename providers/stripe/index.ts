import {
  definePlugin,
  hmacSha256,
  matchesAny,
  PLUGIN_API_VERSION,
  readJsonFields,
  readSingleHeader,
  reject,
  rejectTimestamp,
  type WebhookProviderOptions,
  type WebhookRequest,
  type WebhookVerification,
  withinTolerance,
} from '../../core/index.js';
import { parseStripeSignature } from './header.js';
import { stripeOptionsSchema } from './schema.js';

/**
 * Verifies one Stripe request: every `v1` signature against every secret, HMAC-SHA256 over
 * `<t>.<raw body>` keyed with the whole secret string (`whsec_` prefix included, as stripe-node
 * does), then the timestamp against the tolerance in both directions.
 */
export function verifyStripe(
  request: WebhookRequest,
  options: WebhookProviderOptions,
): WebhookVerification {
  const fields = readJsonFields(request.body, 'id', 'type');
  const eventId = fields.id;
  const header = readSingleHeader(request.headers, 'stripe-signature');
  if (header.status === 'missing') {
    return reject('signature_missing', 'missing Stripe-Signature header', { eventId });
  }
  if (header.status === 'repeated') {
    return reject('signature_malformed', 'Stripe-Signature header sent more than once', {
      eventId,
    });
  }
  const parsed = parseStripeSignature(header.value);
  if ('reason' in parsed) {
    return reject(parsed.reason, parsed.message, { eventId });
  }
  const expected = options.secrets.map((secret) =>
    hmacSha256(secret, `${parsed.timestampText}.`, request.body),
  );
  if (!matchesAny(expected, parsed.signatures)) {
    return reject('signature_mismatch', 'no v1 signature matches a configured secret', {
      eventId,
    });
  }
  if (!withinTolerance(parsed.timestamp, request.now, options.tolerance)) {
    return rejectTimestamp(parsed.timestamp, request.now, options.tolerance, eventId);
  }
  return { ok: true, eventId, eventType: fields.type };
}

/** Stripe webhooks: `Stripe-Signature` with a signed timestamp and one `v1` per active secret. */
export default definePlugin({
  name: 'stripe',
  kind: 'webhook-provider',
  apiVersion: PLUGIN_API_VERSION,
  description: 'Stripe-Signature (t= and v1= HMAC-SHA256), de-duplicated on the event id',
  optionsSchema: stripeOptionsSchema,
  secretEnv: 'STRIPE_WEBHOOK_SECRET',
  sign({ body, secret, timestamp }) {
    const signature = hmacSha256(secret, `${timestamp}.`, body).toString('hex');
    return { 'Stripe-Signature': `t=${timestamp},v1=${signature}` };
  },
  create(options: WebhookProviderOptions) {
    return { verify: (request) => verifyStripe(request, options) };
  },
});
