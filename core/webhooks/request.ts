import type { IncomingMessage } from 'node:http';
import type { FastifyRequest } from 'fastify';
import type { WebhookRequest } from '../plugin-api.js';

/** Copies the request headers with lower-case names; a header sent more than once stays a list. */
export function distinctHeaders(raw: IncomingMessage): WebhookRequest['headers'] {
  const headers: WebhookRequest['headers'] = {};
  for (const [name, values] of Object.entries(raw.headersDistinct)) {
    if (values !== undefined) {
      headers[name] = values.length === 1 ? values[0] : values;
    }
  }
  return headers;
}

/** Builds what a provider verifies: the raw body bytes, the headers and the client address. */
export function toWebhookRequest(request: FastifyRequest): WebhookRequest {
  return {
    body: Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0),
    headers: distinctHeaders(request.raw),
    method: request.method,
    url: request.url,
    query: (request.query as Record<string, unknown> | undefined) ?? {},
    ip: request.ip,
    now: Math.floor(Date.now() / 1000),
  };
}
