import 'reflect-metadata';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import type { FastifyBaseLogger } from 'fastify';
import { pino } from 'pino';
import Stripe from 'stripe';
import type { GatewayConfig, RouteConfig } from '../core/config/types.js';
import { queueDeliveryMode } from '../core/delivery/queue-mode.js';
import {
  type DeliveryRuntime,
  type DeliveryRuntimeOptions,
  deliveryRuntimeFor,
  forgetDeliveryRuntime,
} from '../core/delivery/runtime.js';
import { GatewayStats } from '../core/server/stats.js';
import { MemoryIdempotencyStore } from '../core/stores/memory-idempotency.js';
import type { DeliveryOutcome, VerifiedEvent } from '../core/webhooks/delivery.js';

/** A logger that writes nothing. */
export const silentLog = pino({ level: 'silent' }) as unknown as FastifyBaseLogger;

/** A clock that moves only when the test advances it. */
export class FakeClock {
  constructor(public time = 1_000_000) {}
  now = () => this.time;
  advance(ms: number): void {
    this.time += ms;
  }
}

/** Builds a minimal config with one route and the given top-level sections, storing in a temp folder. */
export function deliveryConfig(
  route: Record<string, unknown>,
  sections: Record<string, unknown> = {},
): GatewayConfig {
  const dir = mkdtempSync(join(tmpdir(), 'pactown-delivery-'));
  const routeConfig: RouteConfig = {
    path: String(route.path ?? '/webhooks/test'),
    kind: 'webhook',
    index: 0,
    policies: [],
    raw: { delivery: 'queue', ...route },
  };
  return {
    file: join(dir, 'gateway.yaml'),
    dir,
    server: {
      port: 0,
      host: '127.0.0.1',
      trustProxy: [],
      bodyLimit: 1 << 20,
      headersTimeout: 10_000,
      requestTimeout: 30_000,
      keepAliveTimeout: 5_000,
      shutdownTimeout: 2_000,
      logLevel: 'silent',
      accessLog: false,
    },
    pluginModules: [],
    globalPlugins: [],
    routes: [routeConfig],
    defaultTimeout: 5_000,
    defaultRetries: 0,
    raw: { storage: { path: './data' }, ...sections },
  };
}

/** A prepared queue route, its runtime and a function that accepts events on it. */
export interface QueueHarness {
  config: GatewayConfig;
  runtime: DeliveryRuntime;
  stats: GatewayStats;
  accept(event: Partial<VerifiedEvent>): Promise<DeliveryOutcome>;
}

/** Prepares `delivery: queue` on the config's first route; closes the runtime after the test. */
export async function prepareQueue(
  t: TestContext,
  config: GatewayConfig,
  options: DeliveryRuntimeOptions = {},
): Promise<QueueHarness> {
  const stats = new GatewayStats();
  const runtime = deliveryRuntimeFor(config, silentLog, stats, options);
  const route = config.routes[0];
  const accept = await queueDeliveryMode.prepare({
    config,
    route,
    stats,
    log: silentLog,
    stores: {
      idempotency: new MemoryIdempotencyStore(),
      limiter: () => undefined,
      cache: () => undefined,
    },
    onClose: () => {},
  });
  t.after(async () => {
    await runtime.stop(100);
    await runtime.close();
    forgetDeliveryRuntime(config);
  });
  let counter = 0;
  return {
    config,
    runtime,
    stats,
    accept: (event) => {
      counter += 1;
      return accept({
        provider: 'test',
        route: route.path,
        eventId: `evt_${counter}`,
        body: Buffer.from(`{"n":${counter}}`),
        headers: { 'content-type': 'application/json' },
        receivedAt: options.now?.() ?? Date.now(),
        target: route.raw.target as string,
        ...event,
      });
    },
  };
}

/** Resolves once `check` returns true, polling every 10 ms; rejects after `timeoutMs`. */
export async function waitFor(
  check: () => boolean | Promise<boolean>,
  timeoutMs = 5_000,
  what = 'the condition',
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

const stripe = new Stripe('sk_test_unused');

/** Builds a Stripe event body for `id`, signed with `secret` by stripe-node's own test signer. */
export function stripeRequest(
  id: string,
  secret: string,
): { body: string; headers: Record<string, string> } {
  const body = JSON.stringify({ id, type: 'payment_intent.succeeded', data: { object: {} } });
  const signature = stripe.webhooks.generateTestHeaderString({ payload: body, secret });
  return { body, headers: { 'content-type': 'application/json', 'stripe-signature': signature } };
}
