import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { SignJWT } from 'jose';
import { ConfigError, type ConfigIssue } from '../../core/index.js';
import { loadTestConfig, startGatewayFor, startUpstream, writeConfig } from '../../test/helpers.js';
import { httpClient } from '../../test/policies-support.js';

async function startLimitedGateway(t: import('node:test').TestContext, text: string, env = {}) {
  const upstream = await startUpstream();
  t.after(() => upstream.close());
  const { url } = await startGatewayFor(t, text.replaceAll('UPSTREAM', upstream.url), env);
  return { url, upstream, send: httpClient(t, 64) };
}

// The memory store counts synchronously, in the policy's own hook; any other store goes through
// @fastify/rate-limit's asynchronous check. Both must return the same statuses and headers.
for (const store of ['memory', 'deferred'] as const) {
  test(`rate limit exact counts and headers, ${store} store`, async (t) => {
    const { url, send } = await startLimitedGateway(
      t,
      store === 'memory'
        ? 'routes:\n  - path: /api/*\n    target: UPSTREAM\n    rate_limit: 5/min\n'
        : `plugins: [${storeModule('deferred')}]\nroutes:\n  - path: /api/*\n    target: UPSTREAM\n    rate_limit: { max: 5, window: 1m, store: deferred }\n`,
    );
    const responses = [];
    for (let attempt = 0; attempt < 7; attempt++) {
      responses.push(await send(`${url}/api/a`));
    }

    assert.deepEqual(
      responses.map((response) => response.status),
      [200, 200, 200, 200, 200, 429, 429],
    );
    assert.deepEqual(
      responses.map((response) => response.headers['x-ratelimit-remaining']),
      ['4', '3', '2', '1', '0', '0', '0'],
    );
    for (const response of responses) {
      assert.equal(response.headers['x-ratelimit-limit'], '5');
      const reset = Number(response.headers['x-ratelimit-reset']);
      assert.ok(reset > 0, `x-ratelimit-reset ${reset} must be positive`);
      assert.ok(reset <= 60, `x-ratelimit-reset ${reset} must be within the window`);
    }

    const limited = responses[5];
    const retryAfter = Number(limited.headers['retry-after']);
    assert.ok(retryAfter > 0, `retry-after ${retryAfter} must be positive`);
    assert.ok(retryAfter <= 60, `retry-after ${retryAfter} must be within the window`);
    assert.equal(responses[4].headers['retry-after'], undefined);
    const body = limited.json<{
      error: string;
      code: string;
      route: string;
      retry_after: number;
    }>();
    assert.equal(body.code, 'PACTOWN_ERR_RATE_LIMITED');
    assert.equal(body.route, '/api/*');
    assert.equal(body.retry_after, retryAfter);
    assert.match(body.error, /^rate limit of 5 requests per minute exceeded; retry in \d+ s$/);
    assert.match(String(limited.headers['content-type']), /application\/json/);

    const stats = (await send(`${url}/stats`)).json<{
      requests_rate_limited: number;
      routes: Record<string, { rate_limited: number }>;
    }>();
    assert.equal(stats.requests_rate_limited, 2);
    assert.equal(stats.routes['/api/*'].rate_limited, 2);
  });
}

test('rate limit keeps trusted proxy clients apart', async (t) => {
  const { url, send } = await startLimitedGateway(
    t,
    'server:\n  trust_proxy: [127.0.0.1/32]\nroutes:\n  - path: /api/*\n    target: UPSTREAM\n    rate_limit: 2/min\n',
  );
  const from = (client: string) => send(`${url}/api/a`, { headers: { 'x-forwarded-for': client } });
  const first = [await from('203.0.113.1'), await from('203.0.113.1'), await from('203.0.113.1')];
  assert.deepEqual(
    first.map((response) => response.status),
    [200, 200, 429],
  );
  const second = await from('203.0.113.2');
  assert.equal(second.status, 200, 'another client behind the proxy has its own bucket');
  assert.equal(second.headers['x-ratelimit-remaining'], '1');
});

test('rate limit ignores a spoofed forwarded address', async (t) => {
  const { url, send } = await startLimitedGateway(
    t,
    'routes:\n  - path: /api/*\n    target: UPSTREAM\n    rate_limit: 2/min\n',
  );
  const statuses = [];
  for (const spoofed of ['198.51.100.1', '198.51.100.2', '198.51.100.3']) {
    statuses.push((await send(`${url}/api/a`, { headers: { 'x-forwarded-for': spoofed } })).status);
  }
  assert.deepEqual(statuses, [200, 200, 429], 'an untrusted peer must not pick its bucket');
  const stats = (await send(`${url}/stats`)).json<{ stores: { limiter: number } }>();
  assert.equal(stats.stores.limiter, 1, 'spoofed addresses must not create buckets');
});

test('rate limit memory stays bounded for 10000 clients', async (t) => {
  const { url, send } = await startLimitedGateway(
    t,
    `server:
  trust_proxy: [127.0.0.1/32]
stores:
  options:
    memory: { max_keys: 1000 }
routes:
  - path: /api/*
    target: UPSTREAM
    rate_limit: 1/min
`,
  );
  const clients = 10_000;
  let next = 0;
  let accepted = 0;
  const worker = async () => {
    while (next < clients) {
      const client = next++;
      const address = `10.${(client >> 16) & 255}.${(client >> 8) & 255}.${client & 255}`;
      const response = await send(`${url}/api/a`, { headers: { 'x-forwarded-for': address } });
      if (response.status === 200) {
        accepted++;
      }
    }
  };
  await Promise.all(Array.from({ length: 32 }, worker));
  assert.equal(accepted, clients, 'each distinct client gets its first request through');
  const stats = (await send(`${url}/stats`)).json<{ stores: { limiter: number } }>();
  assert.ok(stats.stores.limiter <= 1000, `${stats.stores.limiter} keys must stay within 1000`);
  assert.ok(stats.stores.limiter >= 900, 'the store must still hold the recent clients');
  const recent = await send(`${url}/api/a`, { headers: { 'x-forwarded-for': '10.0.39.15' } });
  assert.equal(recent.status, 429, 'the most recent client is still counted');
});

test('rate limit by header and by claim', async (t) => {
  const secret = 'rate-limit-claim-secret-32-bytes-long';
  const { url, send } = await startLimitedGateway(
    t,
    `routes:
  - path: /tenants/*
    target: UPSTREAM
    rate_limit: { max: 1, window: 1m, key: header:x-tenant }
  - path: /users/*
    target: UPSTREAM
    auth: jwt
    rate_limit: { max: 1, window: 1h, key: jwt:sub }
`,
    { JWT_SECRET: secret },
  );
  const tenant = (name: string) =>
    send(`${url}/tenants/a`, { headers: { 'x-tenant': name } }).then((r) => r.status);
  assert.deepEqual([await tenant('a'), await tenant('a'), await tenant('b')], [200, 429, 200]);
  const token = (sub: string) =>
    new SignJWT({ sub })
      .setProtectedHeader({ alg: 'HS256' })
      .setExpirationTime('1h')
      .sign(new TextEncoder().encode(secret));
  const user = async (sub: string) =>
    (await send(`${url}/users/a`, { headers: { authorization: `Bearer ${await token(sub)}` } }))
      .status;
  assert.deepEqual([await user('ann'), await user('ann'), await user('ben')], [200, 429, 200]);
});

test('rate limit group shares a bucket across routes', async (t) => {
  const { url, send } = await startLimitedGateway(
    t,
    `routes:
  - path: /a/*
    target: UPSTREAM
    rate_limit: { max: 2, window: 1m, group: shared }
  - path: /b/*
    target: UPSTREAM
    rate_limit: { max: 2, window: 1m, group: shared }
  - path: /c/*
    target: UPSTREAM
    rate_limit: 2/min
`,
  );
  const statuses = [];
  for (const path of ['/a/x', '/b/x', '/a/x', '/c/x']) {
    statuses.push((await send(`${url}${path}`)).status);
  }
  assert.deepEqual(statuses, [200, 200, 429, 200]);
});

/** Limiter stores written as third-party plugin modules, one file per name. */
const STORE_MODULES = {
  // Counts in memory but returns its count through a promise, as a networked store does.
  deferred: `const windows = new Map();
export default {
  name: 'deferred', kind: 'limiter-store', apiVersion: 1,
  create: () => ({
    incr: async (key, windowMs) => {
      const now = Date.now();
      let window = windows.get(key);
      if (!window || window.endsAt <= now) {
        window = { count: 0, endsAt: now + windowMs };
        windows.set(key, window);
      }
      window.count++;
      return { current: window.count, ttl: window.endsAt - now };
    },
    size: () => windows.size,
  }),
};
`,
  failing: `export default {
  name: 'failing', kind: 'limiter-store', apiVersion: 1,
  create: () => ({
    incr: async () => { throw new Error('connection refused'); },
    size: () => 0,
  }),
};
`,
  // Declares itself synchronous, so the policy calls it within the hook, and throws there.
  'failing-now': `export default {
  name: 'failing-now', kind: 'limiter-store', apiVersion: 1,
  create: () => ({
    synchronous: true,
    incr: () => { throw new Error('table full'); },
    size: () => 0,
  }),
};
`,
};

function storeModule(name: keyof typeof STORE_MODULES): string {
  const file = join(dirname(writeConfig('')), `${name}-store.mjs`);
  writeFileSync(file, STORE_MODULES[name]);
  return file;
}

for (const store of ['failing', 'failing-now'] as const) {
  test(`rate limit store errors allow or deny, ${store} store`, async (t) => {
    const { url, send, upstream } = await startLimitedGateway(
      t,
      `plugins: [${storeModule(store)}]
routes:
  - path: /open/*
    target: UPSTREAM
    rate_limit: { max: 5, window: 1m, store: ${store}, on_store_error: allow }
  - path: /closed/*
    target: UPSTREAM
    rate_limit: { max: 5, window: 1m, store: ${store}, on_store_error: deny }
`,
    );
    const open = await send(`${url}/open/a`);
    assert.equal(open.status, 200);
    // Nothing was counted, so the whole limit remains.
    assert.equal(open.headers['x-ratelimit-remaining'], '5');
    const closed = await send(`${url}/closed/a`);
    assert.equal(closed.status, 503);
    assert.equal(closed.headers['retry-after'], '1');
    assert.deepEqual(closed.json(), {
      error: 'the rate limiter is unavailable; retry later',
      code: 'PACTOWN_ERR_RATE_LIMIT_UNAVAILABLE',
      route: '/closed/*',
    });
    assert.equal(upstream.requests.length, 1, 'only the allowed request reaches the upstream');
  });
}

test('rate limit IPv6 and mapped clients', async (t) => {
  const { url, send } = await startLimitedGateway(
    t,
    'server:\n  trust_proxy: [127.0.0.1/32]\nroutes:\n  - path: /api/*\n    target: UPSTREAM\n    rate_limit: 2/min\n',
  );
  const from = async (client: string) =>
    (await send(`${url}/api/a`, { headers: { 'x-forwarded-for': client } })).status;
  const sameNetwork = [
    await from('2001:db8:0:7::1'),
    await from('2001:db8:0:7::2'),
    await from('2001:DB8:0:7:ffff::9'),
  ];
  assert.deepEqual(sameNetwork, [200, 200, 429], 'one /64 network shares a bucket');
  assert.equal(await from('2001:db8:0:8::1'), 200, 'the next /64 has its own bucket');
  const mapped = [await from('203.0.113.9'), await from('::ffff:203.0.113.9')];
  assert.deepEqual(mapped, [200, 200]);
  assert.equal(await from('::ffff:203.0.113.9'), 429, 'a mapped address is its IPv4 client');
  assert.equal(await from('203.0.113.10'), 200, 'other IPv4 clients keep their own buckets');
});

async function issuesOf(text: string): Promise<ConfigIssue[]> {
  try {
    await loadTestConfig(text);
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${error}`);
    return error.issues;
  }
  assert.fail('the config must be rejected');
}

test('rate limit config errors', async () => {
  const route = 'routes:\n  - path: /api/*\n    target: http://127.0.0.1:9\n';
  const badRate = await issuesOf(`${route}    rate_limit: 100/fortnight\n`);
  assert.equal(badRate.length, 1);
  assert.equal(
    badRate[0].message,
    'expected a rate such as 100/min, 10/s, 5000/hour, or a map with max: and window:, found "100/fortnight"',
  );
  assert.equal(badRate[0].line, 4);
  assert.equal(badRate[0].path, 'routes[0].rate_limit');
  const noAuth = await issuesOf(`${route}    rate_limit: { max: 5, key: jwt:sub }\n`);
  assert.match(noAuth[0].message, /needs an auth policy with scheme jwt before the rate limit/);
  assert.equal(noAuth[0].path, 'routes[0].rate_limit.key');
  const badKey = await issuesOf(`${route}    rate_limit: { max: 5, key: cookie }\n`);
  assert.match(badKey[0].message, /expected ip, api_key, jwt:<claim> or header:<name>/);
  const badStore = await issuesOf(`${route}    rate_limit: { max: 5, store: etcd }\n`);
  assert.equal(badStore[0].message, 'unknown limiter store "etcd"');
});
