import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { type TestContext, test } from 'node:test';
import { stripeRequest, waitFor } from './delivery-helpers.js';
import { CLI, rawRequest, spawnGateway, startUpstream, writeConfig } from './helpers.js';
import { startOwnRedis } from './redis-helpers.js';

const SECRET = 'whsec_redis_outage_test_secret';

test('redis outage degrades and recovers', { timeout: 90_000 }, async (t) => {
  if (!process.env.REDIS_URL && process.env.PACTOWN_REQUIRE_REDIS !== '1') {
    // This test starts a Redis of its own, but runs with the other Redis tests.
    t.skip('REDIS_URL is not set; set REDIS_URL=redis://127.0.0.1:6379 to run the Redis tests');
    return;
  }
  const redis = await startOwnRedis(t, { persistent: true });
  const upstream = await startUpstream((request, response) => {
    response.writeHead(200, { 'content-type': 'text/plain', 'cache-control': 'max-age=60' });
    response.end(`upstream ${request.url}`);
  });
  let backendUp = false;
  const delivered = new Set<string>();
  const backend = await startUpstream((request, response) => {
    if (!backendUp) {
      response.writeHead(503);
      response.end();
      return;
    }
    delivered.add(JSON.parse(request.body.toString()).id as string);
    response.end('ok');
  });
  t.after(async () => {
    await upstream.close();
    await backend.close();
  });
  const config = writeConfig(`
server:
  log_level: info
stores:
  redis:
    url: ${redis.url}
queue:
  poll_interval: 50ms
  retry_jitter: 0
routes:
  - path: /api/allow/*
    target: ${upstream.url}
    rate_limit: { max: 100, window: 1m, on_store_error: allow }
  - path: /api/deny/*
    target: ${upstream.url}
    rate_limit: { max: 100, window: 1m, on_store_error: deny }
  - path: /api/cached/*
    target: ${upstream.url}
    cache: 60s
  - path: /webhooks/stripe
    provider: stripe
    secret: ${SECRET}
    delivery: queue
    target: ${backend.url}/events
    retry_schedule: [200ms, 200ms, 200ms, 200ms, 200ms, 200ms, 200ms, 200ms, 200ms, 200ms]
`);
  const gateway = await spawnGateway(t, config);
  const send = (id: string) => {
    const { body, headers } = stripeRequest(id, SECRET);
    return rawRequest(gateway.url, { method: 'POST', path: '/webhooks/stripe', headers, body });
  };
  const page = { path: '/api/cached/page', headers: { host: 'api.example.test' } };

  // Redis up: webhooks are stored while the backend refuses them, and the cache fills.
  for (const id of ['evt_before_1', 'evt_before_2', 'evt_before_3']) {
    assert.equal((await send(id)).status, 202, `${id} is queued`);
  }
  assert.equal((await rawRequest(gateway.url, page)).headers['x-cache'], 'MISS');
  await waitFor(
    async () => (await rawRequest(gateway.url, page)).headers['x-cache'] === 'HIT',
    5_000,
    'the cache entry',
  );

  await redis.kill();

  const allowed = await rawRequest(gateway.url, { path: '/api/allow/x' });
  assert.equal(allowed.status, 200, 'on_store_error: allow lets the request through');
  const denied = await rawRequest(gateway.url, { path: '/api/deny/x' });
  assert.equal(denied.status, 503, 'on_store_error: deny answers 503');
  assert.equal(JSON.parse(denied.body).code, 'PACTOWN_ERR_RATE_LIMIT_UNAVAILABLE');
  const upstreamBefore = upstream.requests.length;
  const uncached = await rawRequest(gateway.url, page);
  assert.equal(uncached.status, 200, 'the cache passes requests to the upstream');
  assert.equal(uncached.headers['x-cache'], 'MISS');
  assert.equal(upstream.requests.length, upstreamBefore + 1);
  const refused = await send('evt_during');
  assert.equal(refused.status, 503, 'a webhook that cannot be stored is not acknowledged');
  assert.equal(JSON.parse(refused.body).code, 'PACTOWN_ERR_DELIVERY_STORE_UNAVAILABLE');
  assert.equal(refused.headers['retry-after'], '5');
  // Let several reconnection attempts fail, to see that their errors are logged once.
  await new Promise((resolve) => setTimeout(resolve, 1_500));
  assert.equal(gateway.child.exitCode, null, 'the gateway keeps running');

  await redis.start();
  backendUp = true;
  await waitFor(
    async () => (await rawRequest(gateway.url, { path: '/api/deny/x' })).status === 200,
    15_000,
    'the limiter to work again after Redis restarted',
  );
  assert.equal((await send('evt_during')).status, 202, 'the provider retry is queued');
  await waitFor(() => delivered.size === 4, 15_000, 'every acknowledged event delivered');
  assert.deepEqual(
    [...delivered].sort(),
    ['evt_before_1', 'evt_before_2', 'evt_before_3', 'evt_during'],
    'nothing acknowledged before the restart is lost',
  );

  const count = (message: string) => gateway.logs.filter((line) => line.msg === message).length;
  assert.equal(count('redis connection closed, reconnecting'), 1, 'the outage is logged once');
  assert.equal(
    count('redis connection failed, reconnecting'),
    1,
    'repeated reconnection errors are logged once',
  );
  assert.ok(
    gateway.logs.some((line) => line.msg === 'redis connection restored'),
    'the recovery is logged',
  );
  assert.ok(
    gateway.logs.every((line) => line.level !== 60),
    'nothing is logged as fatal',
  );
  assert.equal(gateway.child.exitCode, null, 'the gateway is still running');
});

for (const engine of ['redis', 'bullmq']) {
  test(`${engine}: gateway starts while redis is down`, { timeout: 60_000 }, (t) =>
    startWhileDown(t, engine),
  );
}

async function startWhileDown(t: TestContext, engine: string): Promise<void> {
  if (!process.env.REDIS_URL && process.env.PACTOWN_REQUIRE_REDIS !== '1') {
    t.skip('REDIS_URL is not set; set REDIS_URL=redis://127.0.0.1:6379 to run the Redis tests');
    return;
  }
  const redis = await startOwnRedis(t);
  await redis.kill();
  const upstream = await startUpstream();
  const backend = await startUpstream();
  t.after(async () => {
    await upstream.close();
    await backend.close();
  });
  const config = writeConfig(`
server:
  log_level: info
stores:
  redis:
    url: ${redis.url}
  delivery: ${engine}
queue:
  poll_interval: 50ms
routes:
  - path: /api/*
    target: ${upstream.url}
    rate_limit: 100/min
  - path: /webhooks/stripe
    provider: stripe
    secret: ${SECRET}
    delivery: queue
    target: ${backend.url}/events
`);
  const gateway = await spawnGateway(t, config);
  const { body, headers } = stripeRequest('evt_start_down', SECRET);
  const send = () =>
    rawRequest(gateway.url, { method: 'POST', path: '/webhooks/stripe', headers, body });
  assert.equal((await rawRequest(gateway.url, { path: '/api/x' })).status, 200);
  assert.equal((await send()).status, 503, 'nothing is acknowledged without Redis');

  await redis.start();
  await waitFor(async () => (await send()).status === 202, 15_000, 'the webhook to be queued');
  await waitFor(() => backend.requests.length === 1, 15_000, 'the delivery');
  assert.equal(gateway.child.exitCode, null, 'the gateway is still running');
}

for (const engine of ['redis', 'bullmq']) {
  test(`${engine}: wrong redis password stays out of logs`, { timeout: 60_000 }, (t) =>
    wrongPassword(t, engine),
  );
}

async function wrongPassword(t: TestContext, engine: string): Promise<void> {
  if (!process.env.REDIS_URL && process.env.PACTOWN_REQUIRE_REDIS !== '1') {
    t.skip('REDIS_URL is not set; set REDIS_URL=redis://127.0.0.1:6379 to run the Redis tests');
    return;
  }
  const redis = await startOwnRedis(t, { password: 'the-right-redis-password' });
  const wrong = 'WRONGpass-must-not-be-logged';
  const backend = await startUpstream();
  t.after(() => backend.close());
  const config = writeConfig(`
server:
  log_level: info
stores:
  redis:
    url: redis://:${wrong}@127.0.0.1:${redis.port}
  delivery: ${engine}
routes:
  - path: /webhooks/stripe
    provider: stripe
    secret: ${SECRET}
    delivery: queue
    target: ${backend.url}/events
`);
  const gateway = await spawnGateway(t, config);
  const { body, headers } = stripeRequest('evt_wrong_password', SECRET);
  const response = await rawRequest(gateway.url, {
    method: 'POST',
    path: '/webhooks/stripe',
    headers,
    body,
  });
  assert.equal(response.status, 503, 'nothing is acknowledged without a Redis that accepts us');
  const health = await rawRequest(gateway.url, { path: '/health' });
  assert.equal(health.status, 200, 'the gateway serves its other endpoints');
  const cli = spawnSync(process.execPath, [CLI, 'deliveries', 'list', '--config', config], {
    encoding: 'utf8',
    timeout: 20_000,
  });
  assert.equal(cli.status, 1, 'the CLI fails');
  assert.match(cli.stderr, /reading the delivery store failed/);
  const logged = JSON.stringify(gateway.logs);
  assert.ok(logged.includes('WRONGPASS'), 'the failed authentication is logged');
  assert.ok(!logged.includes(wrong), 'the password is not in the gateway log');
  assert.ok(!cli.stderr.includes(wrong), 'the password is not in the CLI output');
  assert.ok(!cli.stdout.includes(wrong), 'the password is not in the CLI output');
  assert.equal(gateway.child.exitCode, null, 'the gateway is still running');
}
