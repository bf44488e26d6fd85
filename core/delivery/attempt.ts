import { type Dispatcher, request } from 'undici';
import { HOP_BY_HOP_HEADERS } from '../proxy/headers.js';
import { parseRetryAfter } from './schedule.js';
import { DELIVERY_ID_HEADER, SIGNATURE_HEADER, signBody } from './signature.js';
import type { Delivery } from './store.js';

/** Bytes of a response body kept with an attempt for diagnosis. */
const EXCERPT_BYTES = 512;

/** Request headers that the gateway sets itself instead of copying from the received event. */
const REPLACED_HEADERS = new Set([
  ...HOP_BY_HOP_HEADERS,
  'host',
  'content-length',
  DELIVERY_ID_HEADER,
  SIGNATURE_HEADER,
]);

/** The target's response to one attempt, or the reason there was none. */
export interface AttemptResult {
  statusCode?: number;
  retryAfterMs?: number;
  error?: string;
  responseExcerpt?: string;
}

/** Options of one attempt. */
export interface AttemptOptions {
  dispatcher: Dispatcher;
  timeoutMs: number;
  signingSecret?: string;
  signal: AbortSignal;
  now: () => number;
}

/** Builds the request headers: the received ones, the delivery id and the optional signature. */
export function attemptHeaders(delivery: Delivery, signingSecret?: string): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(delivery.headers)) {
    const lower = name.toLowerCase();
    if (!REPLACED_HEADERS.has(lower)) {
      headers[lower] = Array.isArray(value) ? value.join(', ') : value;
    }
  }
  headers[DELIVERY_ID_HEADER] = delivery.id;
  if (signingSecret) {
    headers[SIGNATURE_HEADER] = signBody(signingSecret, delivery.body);
  }
  return headers;
}

/** POSTs the delivery's original body to its target once. Failures are returned, not thrown. */
export async function sendAttempt(
  delivery: Delivery,
  options: AttemptOptions,
): Promise<AttemptResult> {
  try {
    const response = await request(delivery.target, {
      method: 'POST',
      headers: attemptHeaders(delivery, options.signingSecret),
      body: delivery.body,
      dispatcher: options.dispatcher,
      headersTimeout: options.timeoutMs,
      bodyTimeout: options.timeoutMs,
      signal: options.signal,
    });
    const excerpt = await readExcerpt(response.body);
    return {
      statusCode: response.statusCode,
      retryAfterMs: parseRetryAfter(response.headers['retry-after'], options.now()),
      responseExcerpt: excerpt,
    };
  } catch (error) {
    const { code, message } = error as { code?: string; message: string };
    return { error: code ? `${code}: ${message}` : message };
  }
}

async function readExcerpt(body: Dispatcher.ResponseData['body']): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    if (size < EXCERPT_BYTES) {
      chunks.push(chunk as Buffer);
    }
    size += (chunk as Buffer).length;
  }
  const text = Buffer.concat(chunks).subarray(0, EXCERPT_BYTES).toString('utf8');
  return text.length > 0 ? text : undefined;
}
