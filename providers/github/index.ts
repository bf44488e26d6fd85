import {
  decodeHex,
  definePlugin,
  hmacSha256,
  matchesAny,
  mediaTypeOf,
  PLUGIN_API_VERSION,
  readSingleHeader,
  reject,
  singleHeaderValue,
  type WebhookProviderOptions,
  type WebhookRequest,
  type WebhookVerification,
} from '../../core/index.js';
import { githubOptionsSchema } from './schema.js';

/** GitHub's payload limit: 25 MB. */
const GITHUB_BODY_LIMIT = 25 * 1024 * 1024;

/** The body types GitHub sends, chosen per webhook in its settings. */
const GITHUB_MEDIA_TYPES = new Set(['application/json', 'application/x-www-form-urlencoded']);

/** Reads `X-Hub-Signature-256: sha256=<hex>`; a request with only the SHA-1 header is rejected. */
function readSignature(request: WebhookRequest, deliveryId?: string): Buffer | WebhookVerification {
  const header = readSingleHeader(request.headers, 'x-hub-signature-256');
  if (header.status === 'missing') {
    const sha1Only = request.headers['x-hub-signature'] !== undefined;
    const message = sha1Only
      ? 'only the SHA-1 X-Hub-Signature was sent; X-Hub-Signature-256 is required'
      : 'missing X-Hub-Signature-256 header';
    return reject('signature_missing', message, { eventId: deliveryId });
  }
  if (header.status === 'repeated') {
    return reject('signature_malformed', 'X-Hub-Signature-256 header sent more than once', {
      eventId: deliveryId,
    });
  }
  const match = /^sha256=(.*)$/.exec(header.value.trim());
  const signature = match ? decodeHex(match[1], 32) : undefined;
  if (!signature) {
    return reject(
      'signature_malformed',
      'malformed X-Hub-Signature-256: expected sha256= and 64 hexadecimal digits',
      { eventId: deliveryId },
    );
  }
  return signature;
}

/**
 * Verifies one GitHub request: HMAC-SHA256 of the raw body with each configured secret against
 * `X-Hub-Signature-256`. GitHub signs no timestamp, so `X-GitHub-Delivery` (the same on a
 * redelivery) is the only replay defence, through de-duplication.
 */
export function verifyGithub(
  request: WebhookRequest,
  options: WebhookProviderOptions,
): WebhookVerification {
  const deliveryId = singleHeaderValue(request.headers, 'x-github-delivery');
  const signature = readSignature(request, deliveryId);
  if (!Buffer.isBuffer(signature)) {
    return signature;
  }
  const expected = options.secrets.map((secret) => hmacSha256(secret, request.body));
  if (!matchesAny(expected, [signature])) {
    return reject('signature_mismatch', 'X-Hub-Signature-256 matches no configured secret', {
      eventId: deliveryId,
    });
  }
  const mediaType = mediaTypeOf(request.headers);
  if (!GITHUB_MEDIA_TYPES.has(mediaType)) {
    return reject(
      'content_type_unsupported',
      `GitHub sends application/json or application/x-www-form-urlencoded, not "${mediaType}"`,
      { status: 415, eventId: deliveryId },
    );
  }
  return accept(request, deliveryId);
}

function accept(request: WebhookRequest, deliveryId?: string): WebhookVerification {
  const eventType = singleHeaderValue(request.headers, 'x-github-event');
  if (eventType === 'ping') {
    const hookId = singleHeaderValue(request.headers, 'x-github-hook-id');
    return {
      ok: true,
      eventId: deliveryId,
      eventType,
      response: {
        status: 200,
        body: { status: 'ok', provider: 'github', event: 'ping', hook_id: hookId },
        final: true,
      },
    };
  }
  return { ok: true, eventId: deliveryId, eventType };
}

/** GitHub webhooks: `X-Hub-Signature-256`, JSON or form-encoded bodies up to 25 MB. */
export default definePlugin({
  name: 'github',
  kind: 'webhook-provider',
  apiVersion: PLUGIN_API_VERSION,
  description: 'X-Hub-Signature-256 (HMAC-SHA256), de-duplicated on X-GitHub-Delivery',
  optionsSchema: githubOptionsSchema,
  secretEnv: 'GITHUB_WEBHOOK_SECRET',
  defaultBodyLimit: GITHUB_BODY_LIMIT,
  sign({ body, secret, id }) {
    return {
      'X-Hub-Signature-256': `sha256=${hmacSha256(secret, body).toString('hex')}`,
      'X-GitHub-Delivery': id,
      'X-GitHub-Event': 'push',
    };
  },
  create(options: WebhookProviderOptions) {
    return { verify: (request) => verifyGithub(request, options) };
  },
});
