import { Pool } from 'undici';
import { stripHopByHop } from '../proxy/headers.js';
import type { VerifiedEvent } from './delivery.js';

/** Request headers that describe the connection or the old body, never forwarded to a target. */
const NOT_FORWARDED = ['host', 'content-length', 'expect'];

/** The largest target response body relayed to the provider: 1 MiB. */
const MAX_RESPONSE_BYTES = 1024 * 1024;

/**
 * Builds the headers of a forwarded event: the original ones without hop-by-hop headers, plus
 * `X-Pactown-Provider`, `X-Pactown-Event-Id` and `X-Pactown-Event-Type`. Any `x-pactown-*`
 * header the sender set is dropped first, so a sender cannot pose as the gateway.
 */
export function forwardHeaders(event: VerifiedEvent): Record<string, string | string[]> {
  const headers: Record<string, string | string[] | undefined> = { ...event.headers };
  stripHopByHop(headers);
  for (const name of Object.keys(headers)) {
    if (NOT_FORWARDED.includes(name) || name.startsWith('x-pactown-')) {
      delete headers[name];
    }
  }
  headers['x-pactown-provider'] = event.provider;
  if (event.eventId !== undefined) {
    headers['x-pactown-event-id'] = headerSafe(event.eventId);
  }
  if (event.eventType !== undefined) {
    headers['x-pactown-event-type'] = headerSafe(event.eventType);
  }
  return headers as Record<string, string | string[]>;
}

/** Printable ASCII and tab: what a header value may carry as it is. */
const HEADER_SAFE = /^[\t\x20-\x7e]*$/;

/**
 * Returns `value` percent-encoded as UTF-8 when it has a character outside printable ASCII, such
 * as an emoji or a line break in an event id read from the body, which no header may carry.
 */
export function headerSafe(value: string): string {
  return HEADER_SAFE.test(value) ? value : encodeURIComponent(value);
}

/** A target's response. `body` is undefined when it was larger than the relay limit. */
export interface TargetResponse {
  status: number;
  contentType?: string;
  body?: Buffer;
}

/** A keep-alive connection pool to one webhook target. */
export class TargetClient {
  private readonly pool: Pool;
  private readonly path: string;

  constructor(
    readonly target: string,
    private readonly timeoutMs: number,
  ) {
    const url = new URL(target);
    this.pool = new Pool(url.origin, { connections: 32, keepAliveTimeout: 60_000 });
    this.path = `${url.pathname}${url.search}`;
  }

  /** POSTs the event's bytes unchanged; rejects on a connection failure or a timeout. */
  async post(event: VerifiedEvent): Promise<TargetResponse> {
    const response = await this.pool.request({
      path: this.path,
      method: 'POST',
      headers: forwardHeaders(event),
      body: event.body,
      headersTimeout: this.timeoutMs,
      bodyTimeout: this.timeoutMs,
    });
    const contentType = response.headers['content-type'];
    return {
      status: response.statusCode,
      contentType: Array.isArray(contentType) ? contentType[0] : contentType,
      body: await readBounded(response.body, MAX_RESPONSE_BYTES),
    };
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}

async function readBounded(
  body: AsyncIterable<Buffer> & { destroy(): void },
  limit: number,
): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += chunk.length;
    if (size > limit) {
      body.destroy();
      return undefined;
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}
