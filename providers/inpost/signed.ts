import {
  decodeBase64,
  decodeHex,
  hmacSha256,
  matchesAny,
  parseUnixSeconds,
  readSingleHeader,
  reject,
  rejectTimestamp,
  singleHeaderValue,
  type WebhookProviderOptions,
  type WebhookRequest,
  type WebhookVerification,
  withinTolerance,
} from '../../core/index.js';
import type { InpostSignedString } from './schema.js';

/** Reads `x-inpost-signature` once, or explains why it cannot be used. */
function readSignatureHeader(
  request: WebhookRequest,
  eventId?: string,
): string | WebhookVerification {
  const header = readSingleHeader(request.headers, 'x-inpost-signature');
  if (header.status === 'missing') {
    return reject('signature_missing', 'missing X-InPost-Signature header', { eventId });
  }
  if (header.status === 'repeated') {
    return reject('signature_malformed', 'X-InPost-Signature header sent more than once', {
      eventId,
    });
  }
  return header.value.trim();
}

/**
 * Parses `x-inpost-timestamp` as unix seconds, unix milliseconds or ISO-8601.
 * NOTE: InPost's format is known only second-hand; all three forms are accepted for that reason.
 */
export function parseInpostTimestamp(text: string): number | undefined {
  const seconds = parseUnixSeconds(text);
  if (seconds !== undefined) {
    return seconds;
  }
  if (/^\d{13}$/.test(text)) {
    return Math.floor(Number(text) / 1000);
  }
  if (!/^\d{4}-\d{2}-\d{2}T/.test(text)) {
    return undefined;
  }
  const parsed = Date.parse(text);
  return Number.isNaN(parsed) ? undefined : Math.floor(parsed / 1000);
}

function checkTimestamp(
  text: string,
  request: WebhookRequest,
  options: WebhookProviderOptions,
  eventId?: string,
): WebhookVerification | undefined {
  const timestamp = parseInpostTimestamp(text);
  if (timestamp === undefined) {
    return reject('timestamp_malformed', 'X-InPost-Timestamp is not a timestamp', { eventId });
  }
  if (!withinTolerance(timestamp, request.now, options.tolerance)) {
    return rejectTimestamp(timestamp, request.now, options.tolerance, eventId);
  }
  return undefined;
}

/**
 * Verifies an InPost Group API webhook: `x-inpost-signature` is base64 HMAC-SHA256 over the
 * string the route's `signed` names. With `timestamp_body`, the timestamp header is required and
 * checked against the tolerance, so a request without it cannot pass off `<timestamp>.<body>`
 * as its body. With `body`, the timestamp header is not signed and is ignored.
 */
export function verifyInpostHmac(
  request: WebhookRequest,
  options: WebhookProviderOptions & { signed: InpostSignedString },
): WebhookVerification {
  const eventId = singleHeaderValue(request.headers, 'x-inpost-event-id');
  const header = readSignatureHeader(request, eventId);
  if (typeof header !== 'string') {
    return header;
  }
  const signature = decodeBase64(header, 32);
  if (!signature) {
    return reject('signature_malformed', 'X-InPost-Signature is not a base64 SHA-256 HMAC', {
      eventId,
    });
  }

  let prefix = '';
  let timestamp: string | undefined;
  if (options.signed === 'timestamp_body') {
    const sent = readSingleHeader(request.headers, 'x-inpost-timestamp');
    if (sent.status === 'repeated') {
      return reject('timestamp_malformed', 'X-InPost-Timestamp header sent more than once', {
        eventId,
      });
    }
    if (sent.status === 'missing') {
      return reject('timestamp_missing', 'missing X-InPost-Timestamp header', { eventId });
    }
    timestamp = sent.value;
    prefix = `${timestamp}.`;
  }

  const expected = options.secrets.map((secret) => hmacSha256(secret, prefix, request.body));
  if (!matchesAny(expected, [signature])) {
    return reject('signature_mismatch', 'X-InPost-Signature matches no configured secret', {
      eventId,
    });
  }

  if (timestamp !== undefined) {
    const problem = checkTimestamp(timestamp, request, options, eventId);
    if (problem) {
      return problem;
    }
  }
  return { ok: true, eventId, eventType: singleHeaderValue(request.headers, 'x-inpost-topic') };
}

/**
 * Verifies the original service's form: `X-InPost-Signature: sha256=<hex HMAC-SHA256 of the
 * body>`. It matches none of InPost's own schemes and signs no timestamp.
 */
export function verifyInpostLegacy(
  request: WebhookRequest,
  options: WebhookProviderOptions,
): WebhookVerification {
  const eventId = singleHeaderValue(request.headers, 'x-inpost-event-id');
  const header = readSignatureHeader(request, eventId);
  if (typeof header !== 'string') {
    return header;
  }
  const match = /^sha256=(.*)$/.exec(header);
  const signature = match ? decodeHex(match[1], 32) : undefined;
  if (!signature) {
    return reject(
      'signature_malformed',
      'malformed X-InPost-Signature: expected sha256= and 64 hexadecimal digits',
      { eventId },
    );
  }
  const expected = options.secrets.map((secret) => hmacSha256(secret, request.body));
  if (!matchesAny(expected, [signature])) {
    return reject('signature_mismatch', 'X-InPost-Signature matches no configured secret', {
      eventId,
    });
  }
  return { ok: true, eventId, eventType: singleHeaderValue(request.headers, 'x-inpost-topic') };
}
