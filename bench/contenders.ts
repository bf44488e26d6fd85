import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { SignJWT } from 'jose';
import Stripe from 'stripe';
import type { LoadRequest } from './load.js';
import { startNginx } from './nginx.js';
import {
  type ServerProcess,
  type StartFailure,
  type StartOptions,
  startServer,
} from './processes.js';

/** The table a contender belongs to, which sets what its ratios compare against. */
export type ContenderGroup = 'baseline' | 'gateway' | 'peer' | 'webhook';

/** Inputs a contender starts from: the shared upstream and a folder of its own. */
export interface ContenderContext {
  /** The upstream that every proxy contender forwards to, shared by all of them. */
  upstream: ServerProcess;
  upstreamUrl: string;
  /** A fresh folder for this contender's config and storage. */
  dir: string;
  /** Node flags for the contender's process, such as `--cpu-prof`. */
  nodeFlags: string[];
}

/** One server under test, the request that loads it, and how to start it. */
export interface Contender {
  name: string;
  label: string;
  group: ContenderGroup;
  request(): Promise<LoadRequest>;
  start(context: ContenderContext): Promise<ServerProcess | StartFailure>;
}

/** Path and query that every proxy contender receives; the `/api` prefix is stripped upstream. */
export const PROXY_PATH = '/api/items/42?page=1&sort=price';
const UPSTREAM_PATH = '/items/42?page=1&sort=price';

/** A random per-run secret for the JWT contender, so no fixed secret sits in the repository. */
const JWT_SECRET = randomBytes(32).toString('hex');
const STRIPE_SECRET = `whsec_${randomBytes(24).toString('base64url')}`;

/**
 * The Redis that the `-redis` contenders share their state through, `REDIS_URL` or else the
 * local default. Each run writes below a key prefix of its own and deletes its keys when it stops.
 */
const BENCH_REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

function redisStores(concerns: string[], backends: Record<string, string> = {}): string {
  const prefix = `pactown-bench-${randomBytes(4).toString('hex')}:`;
  const lines = [
    'stores:',
    '  redis:',
    `    url: ${BENCH_REDIS_URL}`,
    `    key_prefix: "${prefix}"`,
  ];
  for (const concern of concerns) {
    lines.push(`  ${concern}: redis`);
  }
  for (const [concern, backend] of Object.entries(backends)) {
    lines.push(`  ${concern}: ${backend}`);
  }
  return `${lines.join('\n')}\n`;
}

/** Starts a gateway whose config begins with `stores`, or skips it when Redis does not respond. */
async function startRedisGateway(
  context: ContenderContext,
  stores: string,
  yaml: string,
  env: NodeJS.ProcessEnv = {},
): Promise<ServerProcess | StartFailure> {
  const redis = new Redis(BENCH_REDIS_URL, {
    lazyConnect: true,
    connectTimeout: 1000,
    maxRetriesPerRequest: 0,
  });
  try {
    await redis.connect();
  } catch (error) {
    redis.disconnect();
    return { reason: `Redis at ${BENCH_REDIS_URL} did not respond (${(error as Error).message})` };
  }
  const prefix = /key_prefix: "(.*)"/.exec(stores)![1];
  const started = await startGateway(context, `${stores}${yaml}`, env);
  if (!('stop' in started)) {
    redis.disconnect();
    return started;
  }
  return {
    ...started,
    stop: async () => {
      await started.stop();
      await deleteKeys(redis, prefix);
      redis.disconnect();
    },
  };
}

async function deleteKeys(redis: Redis, prefix: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    if (keys.length > 0) {
      await redis.unlink(...keys);
    }
    cursor = next;
  } while (cursor !== '0');
}

function startGateway(
  context: ContenderContext,
  yaml: string,
  env: NodeJS.ProcessEnv = {},
  options: StartOptions = {},
) {
  const file = join(context.dir, 'gateway.yaml');
  writeFileSync(file, yaml);
  return startServer(
    { kind: 'gateway', config: file },
    { ...options, env: { ...env }, nodeFlags: context.nodeFlags },
  );
}

function proxyRoute(upstreamUrl: string, extra = ''): string {
  return `routes:
  - path: /api
    target: ${upstreamUrl}
${extra}`;
}

const get = (path: string, headers?: Record<string, string>) => async (): Promise<LoadRequest> => ({
  method: 'GET',
  path,
  headers,
});

/** Route keys of the JWT contenders. The limit is high enough never to reject. */
const JWT_RATE_LIMIT_KEYS = '    auth: jwt\n    rate_limit: 1000000/min\n';
const CACHE_KEYS = '    cache: 60s\n';

const jwtRequest = async (): Promise<LoadRequest> => ({
  method: 'GET',
  path: PROXY_PATH,
  headers: { authorization: `Bearer ${await benchToken()}` },
});

/** The proxy contenders, in the order the tables list them. */
export const PROXY_CONTENDERS: Contender[] = [
  {
    name: 'upstream',
    label: 'upstream, direct',
    group: 'baseline',
    request: get(UPSTREAM_PATH),
    // Loads the shared upstream itself; the harness stops it after the last section.
    start: async (context) => ({ ...context.upstream, stop: async () => {} }),
  },
  {
    name: 'pactown-proxy',
    label: 'pactown, proxy route',
    group: 'gateway',
    request: get(PROXY_PATH),
    start: (context) => startGateway(context, proxyRoute(context.upstreamUrl)),
  },
  {
    name: 'pactown-jwt-rate-limit',
    label: 'pactown, auth: jwt + rate_limit',
    group: 'gateway',
    request: jwtRequest,
    start: (context) =>
      startGateway(context, proxyRoute(context.upstreamUrl, JWT_RATE_LIMIT_KEYS), { JWT_SECRET }),
  },
  {
    name: 'pactown-cache',
    label: 'pactown, cache: 60s (hits)',
    group: 'gateway',
    request: get(PROXY_PATH),
    start: (context) => startGateway(context, proxyRoute(context.upstreamUrl, CACHE_KEYS)),
  },
  {
    name: 'pactown-jwt-rate-limit-redis',
    label: 'pactown, auth: jwt + rate_limit, counters in Redis',
    group: 'gateway',
    request: jwtRequest,
    start: (context) =>
      startRedisGateway(
        context,
        redisStores(['limiter']),
        proxyRoute(context.upstreamUrl, JWT_RATE_LIMIT_KEYS),
        { JWT_SECRET },
      ),
  },
  {
    name: 'pactown-cache-redis',
    label: 'pactown, cache: 60s (hits), entries in Redis',
    group: 'gateway',
    request: get(PROXY_PATH),
    start: (context) =>
      startRedisGateway(
        context,
        redisStores(['cache']),
        proxyRoute(context.upstreamUrl, CACHE_KEYS),
      ),
  },
  {
    name: 'fastify-http-proxy',
    label: 'Fastify + @fastify/http-proxy defaults',
    group: 'peer',
    request: get(PROXY_PATH),
    start: (context) =>
      startServer(
        { kind: 'fastify-http-proxy', upstream: context.upstreamUrl, prefix: '/api' },
        { nodeFlags: context.nodeFlags },
      ),
  },
  {
    name: 'fast-gateway',
    label: 'fast-gateway',
    group: 'peer',
    request: get(PROXY_PATH),
    start: (context) =>
      startServer(
        { kind: 'fast-gateway', upstream: context.upstreamUrl, prefix: '/api' },
        { nodeFlags: context.nodeFlags },
      ),
  },
  {
    name: 'nginx',
    label: 'nginx, upstream keep-alive',
    group: 'peer',
    request: get(PROXY_PATH),
    start: (context) => startNginx(context.dir, context.upstreamUrl),
  },
];

async function benchToken(): Promise<string> {
  return new SignJWT({ scope: 'bench' })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject('bench-user')
    .setIssuedAt()
    .setExpirationTime('2h')
    .sign(new TextEncoder().encode(JWT_SECRET));
}

function webhookRoute(upstreamUrl: string, delivery: 'sync' | 'queue'): string {
  return `routes:
  - provider: stripe
    secret: ${STRIPE_SECRET}
    target: ${upstreamUrl}/hooks/stripe
    delivery: ${delivery}
`;
}

/** The webhook contenders: Stripe-signed events with a fresh event id on every request. */
export const WEBHOOK_CONTENDERS: Contender[] = [
  {
    name: 'pactown-webhook-sync',
    label: 'pactown, Stripe webhook, delivery: sync',
    group: 'webhook',
    request: async () => stripeRequest(),
    start: (context) => startGateway(context, webhookRoute(context.upstreamUrl, 'sync')),
  },
  {
    name: 'pactown-webhook-queue',
    label: 'pactown, Stripe webhook, delivery: queue (SQLite)',
    group: 'webhook',
    request: async () => stripeRequest(),
    start: (context) => {
      const storage = join(context.dir, 'storage');
      mkdirSync(storage, { recursive: true });
      const yaml = `storage:\n  path: ${storage}\n${webhookRoute(context.upstreamUrl, 'queue')}`;
      return startGateway(context, yaml);
    },
  },
  {
    name: 'pactown-webhook-queue-redis',
    label: 'pactown, Stripe webhook, delivery: queue (Redis)',
    group: 'webhook',
    request: async () => stripeRequest(),
    start: (context) =>
      startRedisGateway(
        context,
        redisStores(['delivery', 'idempotency']),
        webhookRoute(context.upstreamUrl, 'queue'),
      ),
  },
  {
    name: 'pactown-webhook-queue-bullmq',
    label: 'pactown, Stripe webhook, delivery: queue (BullMQ)',
    group: 'webhook',
    request: async () => stripeRequest(),
    start: (context) =>
      startRedisGateway(
        context,
        redisStores(['idempotency'], { delivery: 'bullmq' }),
        webhookRoute(context.upstreamUrl, 'queue'),
      ),
  },
];

let eventCounter = 0;

/** Builds a POST to `/webhooks/stripe` whose body and signature are rebuilt for every request. */
function stripeRequest(): LoadRequest {
  const run = randomBytes(4).toString('hex');
  return {
    method: 'POST',
    path: '/webhooks/stripe',
    headers: { 'content-type': 'application/json' },
    prepare: () => {
      eventCounter += 1;
      const body = stripeEvent(`evt_bench_${run}_${eventCounter}`);
      const signature = Stripe.webhooks.generateTestHeaderString({
        payload: body,
        secret: STRIPE_SECRET,
      });
      return { headers: { 'stripe-signature': signature }, body };
    },
  };
}

function stripeEvent(id: string): string {
  return JSON.stringify({
    id,
    object: 'event',
    api_version: '2024-06-20',
    created: Math.floor(Date.now() / 1000),
    livemode: false,
    type: 'payment_intent.succeeded',
    data: {
      object: {
        id: `pi_${id.slice(10)}`,
        object: 'payment_intent',
        amount: 2000,
        currency: 'eur',
        status: 'succeeded',
      },
    },
  });
}

/** Writes the config of a gateway with `count` proxy routes `/r0` … `/r{count-1}`, all to the upstream. */
export function scaleConfig(count: number, upstreamUrl: string): string {
  const lines = ['routes:'];
  for (let index = 0; index < count; index++) {
    lines.push(`  - path: /r${index}`, `    target: ${upstreamUrl}`);
  }
  return `${lines.join('\n')}\n`;
}

/** Path and query sent to route number `index` of a {@link scaleConfig} gateway. */
export function scalePath(index: number): string {
  return `/r${index}/items/42?page=1&sort=price`;
}

/** Starts a gateway with `count` routes. */
export function startScaleGateway(
  context: ContenderContext,
  count: number,
): Promise<ServerProcess | StartFailure> {
  return startGateway(context, scaleConfig(count, context.upstreamUrl), {}, { timeoutMs: 300_000 });
}
