import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** An event in the fake journal. */
export interface FakeEvent {
  id: string;
  type: string;
  occurredAt: string;
  order?: { checkoutForm: { id: string; revision: string } };
  offer?: { id: string };
}

/** A request the fake API received. */
export interface FakeRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  authorization?: string;
  accept?: string;
}

const MEDIA_TYPE = 'application/vnd.allegro.public.v1+json';

/**
 * A fake Allegro API on 127.0.0.1 and a free port: OAuth token endpoint, order and offer
 * journals, event stats, scripted failures (429, 5xx) and tokens that can be expired at will.
 */
export class FakeAllegro {
  orders: FakeEvent[] = [];
  offers: FakeEvent[] = [];
  readonly requests: FakeRequest[] = [];
  tokensIssued = 0;
  refreshGrants = 0;
  /** The one refresh token that is valid now; each refresh replaces it. */
  refreshToken = 'rt_initial';
  clientId = 'client-id';
  clientSecret = 'client-secret';
  /** Statuses (with an optional Retry-After) returned to the next journal requests. */
  failures: { status: number; retryAfter?: string }[] = [];
  private validTokens = new Set<string>();
  private server = createServer((request, response) => void this.handle(request, response));
  url = '';

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  /** Invalidates every access token issued so far, as if they expired. */
  expireTokens(): void {
    this.validTokens.clear();
  }

  /** Journal requests (not token or stats requests) received so far. */
  journalRequests(path = '/order/events'): FakeRequest[] {
    return this.requests.filter((request) => request.path === path);
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', this.url);
    const body = await readBody(request);
    this.requests.push({
      method: request.method ?? '',
      path: url.pathname,
      query: url.searchParams,
      authorization: request.headers.authorization,
      accept: request.headers.accept,
    });
    if (url.pathname === '/auth/oauth/token' && request.method === 'POST') {
      return this.token(request, new URLSearchParams(body), response);
    }
    const token = /^Bearer (.+)$/.exec(request.headers.authorization ?? '')?.[1];
    if (!token || !this.validTokens.has(token)) {
      return send(response, 401, { error: 'invalid_token' });
    }
    if (request.headers.accept !== MEDIA_TYPE) {
      return send(response, 406, { errors: [{ code: 'NotAcceptableException' }] });
    }
    if (url.pathname === '/order/event-stats') {
      const latest = this.orders.at(-1);
      return send(response, 200, {
        latestEvent: latest ? { id: latest.id, occurredAt: latest.occurredAt } : undefined,
      });
    }
    const journal =
      url.pathname === '/order/events'
        ? { events: this.orders, key: 'events' }
        : url.pathname === '/sale/offer-events'
          ? { events: this.offers, key: 'offerEvents' }
          : undefined;
    if (!journal) {
      return send(response, 404, { errors: [{ code: 'NOT_FOUND' }] });
    }
    const failure = this.failures.shift();
    if (failure) {
      const headers: Record<string, string> = failure.retryAfter
        ? { 'retry-after': failure.retryAfter }
        : {};
      return send(response, failure.status, { errors: [{ code: 'SCRIPTED' }] }, headers);
    }
    return this.page(journal.events, journal.key, url.searchParams, response);
  }

  private page(events: FakeEvent[], key: string, query: URLSearchParams, response: ServerResponse) {
    const from = query.get('from');
    const limit = Number(query.get('limit') ?? 100);
    const types = query.getAll('type');
    let start = 0;
    if (from !== null) {
      // The position of a repeated id is its last occurrence, as a journal cursor is a position.
      const index = events.map((event) => event.id).lastIndexOf(from);
      if (index === -1) {
        return send(response, 400, {
          errors: [{ code: 'VALIDATION_ERROR', message: 'Invalid from parameter', path: 'from' }],
        });
      }
      start = index + 1;
    }
    const selected = events
      .slice(start)
      .filter((event) => types.length === 0 || types.includes(event.type))
      .slice(0, limit);
    return send(response, 200, { [key]: selected });
  }

  private token(request: IncomingMessage, form: URLSearchParams, response: ServerResponse) {
    const expected = `Basic ${Buffer.from(`${this.clientId}:${this.clientSecret}`).toString('base64')}`;
    if (request.headers.authorization !== expected) {
      return send(response, 401, { error: 'invalid_client' });
    }
    const grant = form.get('grant_type');
    let refresh: string | undefined;
    if (grant === 'refresh_token') {
      if (form.get('refresh_token') !== this.refreshToken) {
        return send(response, 400, { error: 'invalid_grant' });
      }
      this.refreshGrants += 1;
      refresh = `rt_${this.refreshGrants}`;
      this.refreshToken = refresh;
    } else if (grant !== 'client_credentials') {
      return send(response, 400, { error: 'unsupported_grant_type' });
    }
    this.tokensIssued += 1;
    const token = `tok_${this.tokensIssued}`;
    this.validTokens.add(token);
    return send(response, 200, {
      access_token: token,
      token_type: 'bearer',
      expires_in: 43_199,
      refresh_token: refresh,
    });
  }
}

/** Builds order events `prefix-1 ... prefix-n`, a minute apart. */
export function orderEvents(
  prefix: string,
  count: number,
  start = Date.parse('2026-03-01T10:00:00Z'),
): FakeEvent[] {
  return Array.from({ length: count }, (_, index) => ({
    id: `${prefix}-${index + 1}`,
    type: index % 2 === 0 ? 'BOUGHT' : 'READY_FOR_PROCESSING',
    occurredAt: new Date(start + index * 60_000).toISOString(),
    order: { checkoutForm: { id: `cf-${prefix}-${index + 1}`, revision: '1' } },
  }));
}

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => resolve(Buffer.concat(chunks).toString()));
  });
}

function send(
  response: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  response.writeHead(status, { 'content-type': MEDIA_TYPE, ...headers });
  response.end(JSON.stringify(body));
}
