import {
  decodeBase64,
  definePlugin,
  hmacSha256,
  matchesAny,
  PLUGIN_API_VERSION,
  readJsonFields,
  reject,
  rejectTimestamp,
  singleHeaderValue,
  type WebhookProviderOptions,
  type WebhookRequest,
  type WebhookVerification,
  withinTolerance,
} from '../../core/index.js';
import { readStandardHeaders } from './headers.js';
import { standardWebhooksOptionsSchema } from './schema.js';

const SECRET_PREFIX = 'whsec_';

/**
 * Decodes a Standard Webhooks secret: the base64 after `whsec_` (the prefix is optional, and so
 * is the base64 padding). Unlike Stripe, the key is these decoded bytes, not the text.
 */
export function decodeStandardSecret(secret: string): Buffer | undefined {
  const text = secret.startsWith(SECRET_PREFIX) ? secret.slice(SECRET_PREFIX.length) : secret;
  const padded = text.padEnd(text.length + ((4 - (text.length % 4)) % 4), '=');
  return decodeBase64(padded);
}

/**
 * Verifies one request: every `v1` signature against HMAC-SHA256 of `<id>.<timestamp>.<body>`
 * for each secret, then the timestamp against the tolerance in both directions.
 */
export function verifyStandardWebhook(
  request: WebhookRequest,
  keys: readonly Buffer[],
  tolerance: number,
): WebhookVerification {
  const claimedId =
    singleHeaderValue(request.headers, 'webhook-id') ??
    singleHeaderValue(request.headers, 'svix-id');
  const headers = readStandardHeaders(request.headers);
  if ('reason' in headers) {
    return reject(headers.reason, headers.message, { eventId: claimedId });
  }
  const prefix = `${headers.id}.${headers.timestampText}.`;
  const expected = keys.map((key) => hmacSha256(key, prefix, request.body));
  if (!matchesAny(expected, headers.signatures)) {
    return reject('signature_mismatch', 'no v1 signature matches a configured secret', {
      eventId: headers.id,
    });
  }
  if (!withinTolerance(headers.timestamp, request.now, tolerance)) {
    return rejectTimestamp(headers.timestamp, request.now, tolerance, headers.id);
  }
  return { ok: true, eventId: headers.id, eventType: readJsonFields(request.body, 'type').type };
}

/** Standard Webhooks (and Svix, under `svix-*` header names). */
export default definePlugin({
  name: 'standard-webhooks',
  kind: 'webhook-provider',
  apiVersion: PLUGIN_API_VERSION,
  description: 'webhook-id, webhook-timestamp and webhook-signature (also svix-*), whsec_ keys',
  optionsSchema: standardWebhooksOptionsSchema,
  validateSecret(secret) {
    const key = decodeStandardSecret(secret);
    return key && key.length > 0
      ? undefined
      : 'expected whsec_ followed by base64, as the sender shows it';
  },
  sign({ body, secret, timestamp, id }) {
    const key = decodeStandardSecret(secret) ?? Buffer.alloc(0);
    const signature = hmacSha256(key, `${id}.${timestamp}.`, body).toString('base64');
    return {
      'webhook-id': id,
      'webhook-timestamp': String(timestamp),
      'webhook-signature': `v1,${signature}`,
    };
  },
  create(options: WebhookProviderOptions) {
    const keys = options.secrets.map((secret) => decodeStandardSecret(secret) ?? Buffer.alloc(0));
    return { verify: (request) => verifyStandardWebhook(request, keys, options.tolerance) };
  },
});
