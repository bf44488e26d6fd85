import {
  decodeHex,
  definePlugin,
  hmacSha256,
  matchesAny,
  PLUGIN_API_VERSION,
  readJsonFields,
  readSingleHeader,
  reject,
  type WebhookProviderOptions,
  type WebhookRequest,
  type WebhookVerification,
} from '../../core/index.js';
import { allegroOptionsSchema } from './schema.js';

/**
 * Verifies the original service's Allegro push form: `X-Allegro-Signature` is the hex
 * HMAC-SHA256 of the raw body. Allegro itself sends no webhooks, so this serves a relay the
 * operator runs; the event id and type come from the body's `id` and `type`.
 */
export function verifyAllegro(
  request: WebhookRequest,
  options: WebhookProviderOptions,
): WebhookVerification {
  const fields = readJsonFields(request.body, 'id', 'type');
  const eventId = fields.id;
  const header = readSingleHeader(request.headers, 'x-allegro-signature');
  if (header.status === 'missing') {
    return reject('signature_missing', 'missing X-Allegro-Signature header', { eventId });
  }
  if (header.status === 'repeated') {
    return reject('signature_malformed', 'X-Allegro-Signature header sent more than once', {
      eventId,
    });
  }
  const signature = decodeHex(header.value.trim(), 32);
  if (!signature) {
    return reject(
      'signature_malformed',
      'malformed X-Allegro-Signature: expected 64 hexadecimal digits',
      { eventId },
    );
  }
  const expected = options.secrets.map((secret) => hmacSha256(secret, request.body));
  if (!matchesAny(expected, [signature])) {
    return reject('signature_mismatch', 'X-Allegro-Signature matches no configured secret', {
      eventId,
    });
  }
  return { ok: true, eventId, eventType: fields.type };
}

/** Allegro events pushed by an operator's relay, signed with `X-Allegro-Signature`. */
export default definePlugin({
  name: 'allegro',
  kind: 'webhook-provider',
  apiVersion: PLUGIN_API_VERSION,
  description: 'X-Allegro-Signature (hex HMAC-SHA256) from a relay; the poller is an event source',
  optionsSchema: allegroOptionsSchema,
  secretEnv: 'ALLEGRO_WEBHOOK_SECRET',
  sign({ body, secret }) {
    return { 'X-Allegro-Signature': hmacSha256(secret, body).toString('hex') };
  },
  create(options: WebhookProviderOptions) {
    return { verify: (request) => verifyAllegro(request, options) };
  },
});
