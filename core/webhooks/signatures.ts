/**
 * Building blocks for webhook signature checks, shared by the built-in providers and open to
 * community ones. Every decoder is strict and returns `undefined` for malformed input, so a bad
 * header becomes a 401 and never an exception.
 */
import { createHmac } from 'node:crypto';
import { constantTimeEqual } from '../crypto.js';
import type { WebhookRequest, WebhookVerification } from '../plugin-api.js';

/** A header value read once, with a repeated header distinguished from a single value. */
export type HeaderRead =
  | { status: 'missing' }
  | { status: 'repeated' }
  | { status: 'present'; value: string };

/**
 * Reads a header that must appear once. An empty value counts as present, so the caller reports
 * it as malformed rather than missing.
 *
 * @example
 * ```ts
 * const header = readSingleHeader(request.headers, 'x-shopify-hmac-sha256');
 * if (header.status !== 'present') return reject('signature_missing', 'no signature header');
 * ```
 */
export function readSingleHeader(headers: WebhookRequest['headers'], name: string): HeaderRead {
  const value = headers[name.toLowerCase()];
  if (value === undefined) {
    return { status: 'missing' };
  }
  if (Array.isArray(value)) {
    return value.length === 1 ? { status: 'present', value: value[0] } : { status: 'repeated' };
  }
  return { status: 'present', value };
}

/** Returns the value of a header that appears once, or `undefined` when it is absent or repeated. */
export function singleHeaderValue(
  headers: WebhookRequest['headers'],
  name: string,
): string | undefined {
  const header = readSingleHeader(headers, name);
  return header.status === 'present' ? header.value : undefined;
}

const HEX = /^[0-9a-fA-F]+$/;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/** Decodes hex text of exactly `bytes` bytes; `undefined` for any other length or character. */
export function decodeHex(text: string, bytes: number): Buffer | undefined {
  if (text.length !== bytes * 2 || !HEX.test(text)) {
    return undefined;
  }
  return Buffer.from(text, 'hex');
}

/**
 * Decodes standard base64 (RFC 4648 section 4, with padding). Given `bytes`, the decoded length
 * must equal it. Returns `undefined` for other characters, missing padding or a wrong length.
 */
export function decodeBase64(text: string, bytes?: number): Buffer | undefined {
  if (text.length === 0 || text.length % 4 !== 0 || !BASE64.test(text)) {
    return undefined;
  }
  const decoded = Buffer.from(text, 'base64');
  if (bytes !== undefined && decoded.length !== bytes) {
    return undefined;
  }
  // Buffer.from ignores non-zero padding bits, so only input that re-encodes to itself is canonical.
  return decoded.toString('base64') === text ? decoded : undefined;
}

/** Computes HMAC-SHA256 of the concatenated `parts` with `key` (a string is used as UTF-8). */
export function hmacSha256(key: string | Uint8Array, ...parts: (string | Uint8Array)[]): Buffer {
  const hmac = createHmac('sha256', key);
  for (const part of parts) {
    hmac.update(part);
  }
  return hmac.digest();
}

/**
 * Returns whether any candidate equals any expected digest, compared in constant time. Every pair is
 * compared, so the time does not tell which one matched.
 */
export function matchesAny(expected: readonly Uint8Array[], candidates: readonly Uint8Array[]) {
  let matched = false;
  for (const digest of expected) {
    for (const candidate of candidates) {
      if (constantTimeEqual(digest, candidate)) {
        matched = true;
      }
    }
  }
  return matched;
}

/** Parses unix seconds written as 1 to 12 digits; `undefined` for anything else. */
export function parseUnixSeconds(text: string): number | undefined {
  return /^\d{1,12}$/.test(text) ? Number(text) : undefined;
}

/** Returns whether `timestamp` (unix seconds) is within `tolerance` seconds of `now`, either way. */
export function withinTolerance(timestamp: number, now: number, tolerance: number): boolean {
  return Math.abs(now - timestamp) <= tolerance;
}

/** Builds a failed verification, a 401 unless `status` sets another. */
export function reject(
  reason: string,
  message: string,
  extra: { status?: 401 | 403 | 400 | 415; code?: string; eventId?: string } = {},
): WebhookVerification {
  return { ok: false, reason, message, ...extra };
}

/** Builds the rejection of a timestamp outside the tolerance, naming the difference in seconds. */
export function rejectTimestamp(
  timestamp: number,
  now: number,
  tolerance: number,
  eventId?: string,
): WebhookVerification {
  const difference = timestamp - now;
  const side = difference > 0 ? 'in the future' : 'in the past';
  return reject(
    'timestamp_outside_tolerance',
    `timestamp is ${Math.abs(difference)} s ${side}, more than the tolerance of ${tolerance} s`,
    { eventId },
  );
}

/** Reads string fields of a JSON object body; an empty result when the body is not one. */
export function readJsonFields(body: Buffer, ...fields: string[]): Record<string, string> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    return {};
  }
  const found: Record<string, string> = {};
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    return found;
  }
  for (const field of fields) {
    const value = (parsed as Record<string, unknown>)[field];
    if (typeof value === 'string' && value.length > 0) {
      found[field] = value;
    }
  }
  return found;
}

/** Returns the media type of a request without parameters, lower-cased; empty when there is none. */
export function mediaTypeOf(headers: WebhookRequest['headers']): string {
  const value = singleHeaderValue(headers, 'content-type') ?? '';
  return value.split(';')[0].trim().toLowerCase();
}
