// A Pactown Gateway webhook provider for Shopify, published as its own npm package. Plain ESM
// JavaScript with JSDoc types, so it needs no build step.
import {
  decodeBase64,
  definePlugin,
  hmacSha256,
  matchesAny,
  PLUGIN_API_VERSION,
  readSingleHeader,
  reject,
  singleHeaderValue,
} from 'pactown-gateway';

/** @typedef {import('pactown-gateway').WebhookRequest} WebhookRequest */
/** @typedef {import('pactown-gateway').WebhookVerification} WebhookVerification */
/** @typedef {import('pactown-gateway').WebhookProviderOptions} WebhookProviderOptions */

/**
 * Verifies one Shopify request: `X-Shopify-Hmac-SHA256` is the base64 HMAC-SHA256 of the raw
 * body keyed with the app's client secret. Shopify signs no timestamp, so de-duplication on
 * `X-Shopify-Webhook-Id` is the replay defence.
 *
 * @param {WebhookRequest} request
 * @param {WebhookProviderOptions} options
 * @returns {WebhookVerification}
 */
export function verifyShopify(request, options) {
  const eventId = singleHeaderValue(request.headers, 'x-shopify-webhook-id');
  const header = readSingleHeader(request.headers, 'x-shopify-hmac-sha256');
  if (header.status === 'missing') {
    return reject('signature_missing', 'missing X-Shopify-Hmac-SHA256 header', { eventId });
  }
  if (header.status === 'repeated') {
    return reject('signature_malformed', 'X-Shopify-Hmac-SHA256 header sent more than once', {
      eventId,
    });
  }
  const signature = decodeBase64(header.value.trim(), 32);
  if (!signature) {
    return reject('signature_malformed', 'X-Shopify-Hmac-SHA256 is not a base64 SHA-256 HMAC', {
      eventId,
    });
  }
  const expected = options.secrets.map((secret) => hmacSha256(secret, request.body));
  if (!matchesAny(expected, [signature])) {
    return reject('signature_mismatch', 'X-Shopify-Hmac-SHA256 matches no configured secret', {
      eventId,
    });
  }
  return { ok: true, eventId, eventType: singleHeaderValue(request.headers, 'x-shopify-topic') };
}

export default definePlugin({
  name: 'shopify',
  kind: 'webhook-provider',
  apiVersion: PLUGIN_API_VERSION,
  description: 'X-Shopify-Hmac-SHA256 (base64 HMAC-SHA256), de-duplicated on X-Shopify-Webhook-Id',
  optionsSchema: { type: 'object', properties: {} },
  secretEnv: 'SHOPIFY_WEBHOOK_SECRET',
  /** @param {import('pactown-gateway').WebhookSignInput} input */
  sign({ body, secret, id }) {
    return {
      'X-Shopify-Hmac-SHA256': hmacSha256(secret, body).toString('base64'),
      'X-Shopify-Webhook-Id': id,
      'X-Shopify-Topic': 'orders/create',
    };
  },
  /** @param {WebhookProviderOptions} options */
  create(options) {
    return { verify: (request) => verifyShopify(request, options) };
  },
});
