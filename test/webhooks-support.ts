/** Shared pieces of the webhook test suites: a raw HTTP client and the official signers. */
import { request as httpRequest, type OutgoingHttpHeaders } from 'node:http';
import { sign as octokitSign } from '@octokit/webhooks-methods';
import { Webhook } from 'standardwebhooks';
import Stripe from 'stripe';
import type {
  PluginDescriptor,
  RoutePluginContext,
  WebhookProvider,
  WebhookRequest,
} from '../core/index.js';

/** A response as the test client read it. */
export interface SentResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  /** The body parsed as JSON, or undefined when it is not JSON. */
  // biome-ignore lint/suspicious/noExplicitAny: tests read fields of arbitrary JSON bodies.
  json: any;
}

/** Options of {@link send}. */
export interface SendOptions {
  method?: string;
  /** A header with a list value is sent as several header lines. */
  headers?: OutgoingHttpHeaders;
  body?: Buffer | string;
  /** Sends the body in chunks without `Content-Length` (chunked transfer encoding). */
  chunked?: boolean;
}

/**
 * Sends one request with node:http, which, unlike fetch, can repeat a header and stream a
 * chunked body. Times out after 20 s so a hung gateway fails the test instead of stalling it.
 */
export function send(url: string, options: SendOptions = {}): Promise<SentResponse> {
  const body = options.body === undefined ? undefined : Buffer.from(options.body);
  const headers: OutgoingHttpHeaders = { ...options.headers };
  if (body !== undefined && !options.chunked) {
    headers['content-length'] = body.length;
  }
  return new Promise((resolve, reject) => {
    const request = httpRequest(url, {
      method: options.method ?? 'POST',
      headers,
      timeout: 20_000,
    });
    request.on('timeout', () => request.destroy(new Error(`request to ${url} timed out`)));
    request.on('error', reject);
    request.on('response', (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('error', reject);
      response.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json: unknown;
        try {
          json = JSON.parse(text);
        } catch {
          json = undefined;
        }
        resolve({ status: response.statusCode ?? 0, headers: response.headers, text, json });
      });
    });
    writeBody(request, body, options.chunked === true);
  });
}

function writeBody(
  request: ReturnType<typeof httpRequest>,
  body: Buffer | undefined,
  chunked: boolean,
): void {
  if (body === undefined) {
    request.end();
    return;
  }
  if (!chunked) {
    request.end(body);
    return;
  }
  const size = 64 * 1024;
  for (let offset = 0; offset < body.length; offset += size) {
    request.write(body.subarray(offset, offset + size));
  }
  request.end();
}

/** Unix seconds now. */
export function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}

const stripe = new Stripe('sk_test_signing_only');

/** Returns a `Stripe-Signature` header made by stripe-node's own test signer. */
export function stripeSignature(payload: string, secret: string, timestamp = nowSeconds()) {
  return stripe.webhooks.generateTestHeaderString({ payload, secret, timestamp });
}

/** Returns an `X-Hub-Signature-256` value made by @octokit/webhooks-methods. */
export function githubSignature(secret: string, payload: string): Promise<string> {
  return octokitSign(secret, payload);
}

/** Returns a `webhook-signature` value made by the standardwebhooks reference signer. */
export function standardSignature(
  secret: string,
  id: string,
  timestamp: number,
  payload: string | Buffer,
): string {
  return new Webhook(secret).sign(id, new Date(timestamp * 1000), payload);
}

/** Builds a Standard Webhooks secret: `whsec_` and the base64 of 24 bytes of `seed`. */
export function standardSecret(seed: string): string {
  return `whsec_${Buffer.alloc(24, seed).toString('base64')}`;
}

/** Builds a request as a provider's `verify` receives it, with defaults for omitted fields. */
export function webhookRequest(
  fields: Partial<Omit<WebhookRequest, 'body'>> & { body?: Buffer | string },
): WebhookRequest {
  const { body, ...rest } = fields;
  return {
    headers: {},
    method: 'POST',
    url: '/webhooks/test',
    query: {},
    ip: '127.0.0.1',
    now: nowSeconds(),
    ...rest,
    body: Buffer.from(body ?? ''),
  };
}

/** Creates a provider for one route outside a gateway, as the webhook route kind does. */
export async function createProvider(
  plugin: PluginDescriptor,
  options: Record<string, unknown>,
  routePath = '/webhooks/test',
): Promise<WebhookProvider> {
  if (plugin.kind !== 'webhook-provider') {
    throw new Error(`${plugin.name} is not a webhook provider`);
  }
  const context = { route: { path: routePath } } as unknown as RoutePluginContext;
  return plugin.create({ secrets: [], tolerance: 300, ...options }, context);
}
