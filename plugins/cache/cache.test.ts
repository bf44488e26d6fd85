import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { type TestContext, test } from 'node:test';
import { ConfigError } from '../../core/index.js';
import {
  loadTestConfig,
  type RecordedRequest,
  startGatewayFor,
  startUpstream,
  writeConfig,
} from '../../test/helpers.js';
import { httpClient } from '../../test/policies-support.js';

type Handler = (request: RecordedRequest, response: ServerResponse) => void | Promise<void>;

/** Responds to each path with a body that counts the upstream calls, so a hit shows an old count. */
function countingHandler(
  headersFor: (path: string) => Record<string, string | string[]> = () => ({}),
): Handler {
  let calls = 0;
  return (request, response) => {
    calls++;
    const path = request.url.split('?')[0];
    response.writeHead(path.startsWith('/status/') ? Number(path.slice(8)) : 200, {
      'content-type': 'text/plain',
      ...headersFor(path),
    });
    response.end(`${request.method} ${request.url} call ${calls}`);
  };
}

async function startCachedGateway(
  t: TestContext,
  handler: Handler,
  routeKeys = 'cache: 60s',
  top = '',
) {
  const upstream = await startUpstream(handler);
  t.after(() => upstream.close());
  const { url } = await startGatewayFor(
    t,
    `${top}routes:\n  - path: /api/*\n    target: ${upstream.url}\n    ${routeKeys}\n`,
    { JWT_SECRET: 'cache-test-secret-with-32-bytes-or-more' },
  );
  return { url, upstream, send: httpClient(t, 128) };
}

test('cache miss then hit', async (t) => {
  const { url, send, upstream } = await startCachedGateway(t, countingHandler());
  const miss = await send(`${url}/api/items`);
  assert.equal(miss.status, 200);
  assert.equal(miss.headers['x-cache'], 'MISS');
  assert.equal(miss.text, 'GET /items call 1');
  const hit = await send(`${url}/api/items`);
  assert.equal(hit.headers['x-cache'], 'HIT');
  assert.equal(hit.text, 'GET /items call 1');
  assert.equal(hit.headers['content-type'], 'text/plain');
  assert.equal(hit.headers.age, '0');
  assert.equal(upstream.requests.length, 1);
  const stats = (await send(`${url}/stats`)).json<{
    requests_cached: number;
    stores: { cache: { entries: number; bytes: number } };
  }>();
  assert.equal(stats.requests_cached, 1);
  assert.equal(stats.stores.cache.entries, 1);
  assert.ok(stats.stores.cache.bytes > 0);
});

test('cache key sorts the query and normalises the path', async (t) => {
  const { url, send, upstream } = await startCachedGateway(t, countingHandler());
  await send(`${url}/api/search?b=2&a=1&a=0`);
  const reordered = await send(`${url}/api/search?a=1&a=0&b=2`);
  assert.equal(reordered.headers['x-cache'], 'HIT');
  const encoded = await send(`${url}/api/%73earch?a=1&a=0&b=2`);
  assert.equal(encoded.headers['x-cache'], 'HIT', '%73 is an unreserved "s"');
  const swapped = await send(`${url}/api/search?a=0&a=1&b=2`);
  assert.equal(swapped.headers['x-cache'], 'MISS', 'repeated names keep their order');
  assert.equal(upstream.requests.length, 2);
});

test('cache answers HEAD from the stored GET', async (t) => {
  const { url, send, upstream } = await startCachedGateway(t, countingHandler());
  const get = await send(`${url}/api/page`);
  const head = await send(`${url}/api/page`, { method: 'HEAD' });
  assert.equal(head.headers['x-cache'], 'HIT');
  assert.equal(head.headers['content-length'], String(Buffer.byteLength(get.text)));
  assert.equal(head.text, '');
  assert.equal(upstream.requests.length, 1);
  // A HEAD without a stored GET goes upstream and stores nothing for a later GET.
  const first = await send(`${url}/api/other`, { method: 'HEAD' });
  assert.equal(first.headers['x-cache'], 'MISS');
  const after = await send(`${url}/api/other`);
  assert.equal(after.headers['x-cache'], 'MISS');
  assert.equal(after.text, 'GET /other call 3');
  assert.equal((await send(`${url}/api/other`)).headers['x-cache'], 'HIT');
});

test('cache obeys upstream no-store private and no-cache', async (t) => {
  const controls: Record<string, string> = {
    '/no-store': 'no-store',
    '/private': 'private, max-age=600',
    '/no-cache': 'no-cache',
    '/max-age-zero': 'max-age=0',
    '/public': 'public, max-age=600',
  };
  const { url, send } = await startCachedGateway(
    t,
    countingHandler(
      (path): Record<string, string> => (controls[path] ? { 'cache-control': controls[path] } : {}),
    ),
  );
  for (const path of Object.keys(controls)) {
    await send(`${url}/api${path}`);
    const second = await send(`${url}/api${path}`);
    const expected = path === '/public' ? 'HIT' : 'MISS';
    assert.equal(second.headers['x-cache'], expected, `${controls[path]} must give ${expected}`);
  }
});

test('cache does not store cookies or other statuses', async (t) => {
  const { url, send } = await startCachedGateway(
    t,
    countingHandler(
      (path): Record<string, string> =>
        path === '/login' ? { 'set-cookie': 'session=abc; HttpOnly' } : {},
    ),
  );
  await send(`${url}/api/login`);
  const again = await send(`${url}/api/login`);
  assert.equal(again.headers['x-cache'], 'MISS');
  assert.equal(again.headers['set-cookie'], 'session=abc; HttpOnly');
  await send(`${url}/api/status/404`);
  assert.equal((await send(`${url}/api/status/404`)).headers['x-cache'], 'MISS');
  await send(`${url}/api/status/500`);
  assert.equal((await send(`${url}/api/status/500`)).headers['x-cache'], 'MISS');
});

test('cache configured statuses are stored', async (t) => {
  const { url, send } = await startCachedGateway(
    t,
    countingHandler(),
    'cache: { ttl: 1m, statuses: [200, 404] }',
  );
  await send(`${url}/api/status/404`);
  const hit = await send(`${url}/api/status/404`);
  assert.equal(hit.status, 404);
  assert.equal(hit.headers['x-cache'], 'HIT');
});

test('cache authorization requests are not shared', async (t) => {
  const { url, send, upstream } = await startCachedGateway(t, countingHandler());
  const alice = await send(`${url}/api/me`, { headers: { authorization: 'Bearer alice' } });
  const bob = await send(`${url}/api/me`, { headers: { authorization: 'Bearer bob' } });
  assert.equal(alice.headers['x-cache'], 'BYPASS');
  assert.equal(bob.headers['x-cache'], 'BYPASS');
  assert.equal(bob.text, 'GET /me call 2', 'bob must not get alice’s response');
  const cookie = await send(`${url}/api/me`, { headers: { cookie: 'session=1' } });
  assert.equal(cookie.headers['x-cache'], 'BYPASS');
  const anonymous = await send(`${url}/api/me`);
  assert.equal(
    anonymous.headers['x-cache'],
    'MISS',
    'an anonymous request is not served a user’s entry',
  );
  assert.equal(upstream.requests.length, 4);
});

test('cache per user when the route opts in', async (t) => {
  const { url, send } = await startCachedGateway(
    t,
    countingHandler(
      (path): Record<string, string> => (path === '/prefs' ? { 'set-cookie': 'seen=1' } : {}),
    ),
    'cache: { ttl: 1m, user_key: [authorization] }',
  );
  const alice = { authorization: 'Bearer alice' };
  const bob = { authorization: 'Bearer bob' };
  assert.equal((await send(`${url}/api/me`, { headers: alice })).text, 'GET /me call 1');
  assert.equal((await send(`${url}/api/me`, { headers: bob })).text, 'GET /me call 2');
  const aliceAgain = await send(`${url}/api/me`, { headers: alice });
  assert.equal(aliceAgain.headers['x-cache'], 'HIT');
  assert.equal(aliceAgain.text, 'GET /me call 1');
  const bobAgain = await send(`${url}/api/me`, { headers: bob });
  assert.equal(bobAgain.text, 'GET /me call 2');
  await send(`${url}/api/prefs`, { headers: alice });
  const prefs = await send(`${url}/api/prefs`, { headers: alice });
  assert.equal(prefs.headers['x-cache'], 'HIT', 'a per-user entry may keep its Set-Cookie');
  assert.equal(prefs.headers['set-cookie'], 'seen=1');
  const anonymous = await send(`${url}/api/prefs`);
  assert.equal(anonymous.headers['x-cache'], 'MISS');
  await send(`${url}/api/prefs`);
  assert.equal(
    (await send(`${url}/api/prefs`)).headers['x-cache'],
    'MISS',
    'a shared Set-Cookie is never stored',
  );
});

test('cache per principal behind auth', async (t) => {
  const { SignJWT } = await import('jose');
  const secret = new TextEncoder().encode('cache-test-secret-with-32-bytes-or-more');
  const token = (sub: string) =>
    new SignJWT({ sub }).setProtectedHeader({ alg: 'HS256' }).setExpirationTime('1h').sign(secret);
  const ann = { authorization: `Bearer ${await token('ann')}` };
  const ben = { authorization: `Bearer ${await token('ben')}` };
  const anonymous = (claims: Record<string, unknown>) =>
    new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).setExpirationTime('1h').sign(secret);
  // Without user_key, a cache after auth keys by the principal, as user_key: [principal] does.
  for (const cache of ['cache: 60s', 'cache: { ttl: 1m, user_key: [principal] }']) {
    const keyed = await startCachedGateway(t, countingHandler(), `auth: jwt\n    ${cache}`);
    await keyed.send(`${keyed.url}/api/me`, { headers: ann });
    assert.equal(
      (await keyed.send(`${keyed.url}/api/me`, { headers: ben })).headers['x-cache'],
      'MISS',
      cache,
    );
    const annAgain = await keyed.send(`${keyed.url}/api/me`, { headers: ann });
    assert.equal(annAgain.headers['x-cache'], 'HIT', cache);
    assert.equal(annAgain.text, 'GET /me call 1', cache);
    // Tokens without a subject identify no principal, so they must not share one entry.
    for (const claims of [{ role: 'first' }, { role: 'second' }, { sub: 7 }]) {
      const response = await keyed.send(`${keyed.url}/api/anon`, {
        headers: { authorization: `Bearer ${await anonymous(claims)}` },
      });
      assert.equal(response.headers['x-cache'], 'BYPASS', `${cache} ${JSON.stringify(claims)}`);
    }
  }
  // An empty user_key keeps every authenticated request out of the cache.
  const opted = await startCachedGateway(
    t,
    countingHandler(),
    'auth: jwt\n    cache: { ttl: 1m, user_key: [] }',
  );
  await opted.send(`${opted.url}/api/me`, { headers: ann });
  const bypassed = await opted.send(`${opted.url}/api/me`, { headers: ann });
  assert.equal(bypassed.headers['x-cache'], 'BYPASS');
  assert.equal(bypassed.text, 'GET /me call 2');
});

test('cache splits entries by vary', async (t) => {
  const { url, send, upstream } = await startCachedGateway(t, (request, response) => {
    const language = String(request.headers['accept-language'] ?? 'none');
    const path = request.url;
    response.writeHead(200, { vary: path === '/star' ? '*' : 'Accept-Language' });
    response.end(`${path} in ${language}`);
  });
  const english = { 'accept-language': 'en' };
  const german = { 'accept-language': 'de' };
  assert.equal((await send(`${url}/api/page`, { headers: english })).text, '/page in en');
  assert.equal((await send(`${url}/api/page`, { headers: german })).text, '/page in de');
  const englishHit = await send(`${url}/api/page`, { headers: english });
  assert.equal(englishHit.headers['x-cache'], 'HIT');
  assert.equal(englishHit.text, '/page in en');
  assert.equal(englishHit.headers.vary, 'Accept-Language');
  const germanHit = await send(`${url}/api/page`, { headers: german });
  assert.equal(germanHit.headers['x-cache'], 'HIT');
  assert.equal(germanHit.text, '/page in de');
  assert.equal(upstream.requests.length, 2);
  await send(`${url}/api/star`);
  assert.equal((await send(`${url}/api/star`)).headers['x-cache'], 'MISS', 'Vary: * is not stored');
});

test('cache single flight for concurrent misses', async (t) => {
  let release!: () => void;
  const released = new Promise<void>((resolve) => {
    release = resolve;
  });
  const file = writeConfig('');
  const probe = join(dirname(file), 'arrival-probe.mjs');
  writeFileSync(
    probe,
    `export default {
  name: 'arrival-probe', kind: 'policy', apiVersion: 1,
  register(scope) {
    scope.addHook('onRequest', async () => { globalThis.pactownArrivals = (globalThis.pactownArrivals ?? 0) + 1; });
  },
};
`,
  );
  const { url, send, upstream } = await startCachedGateway(
    t,
    async (_request, response) => {
      await released;
      response.writeHead(200, { 'content-type': 'text/plain' });
      response.end('slow answer');
    },
    'plugins: [arrival-probe, { cache: 60s }]',
    `plugins: [${probe}]\n`,
  );
  const arrivals = () => (globalThis as { pactownArrivals?: number }).pactownArrivals ?? 0;
  const before = arrivals();
  const pending = Array.from({ length: 100 }, () => send(`${url}/api/slow`));
  // Hold the upstream response until every request has passed the probe and waits in the cache.
  for (let round = 0; round < 500 && arrivals() - before < 100; round++) {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  assert.equal(arrivals() - before, 100, 'all 100 requests must reach the gateway');
  await new Promise((resolve) => setTimeout(resolve, 20));
  release();
  const responses = await Promise.all(pending);
  assert.equal(upstream.requests.length, 1, '100 concurrent misses must make one upstream call');
  assert.deepEqual(new Set(responses.map((response) => response.status)), new Set([200]));
  assert.deepEqual(new Set(responses.map((response) => response.text)), new Set(['slow answer']));
  const misses = responses.filter((response) => response.headers['x-cache'] === 'MISS').length;
  assert.equal(misses, 1);
  const hits = responses.filter((response) => response.headers['x-cache'] === 'HIT').length;
  assert.equal(hits, 99, 'the waiting requests are answered from the shared response');
});

test('cache single flight falls back when the answer is private', async (t) => {
  let calls = 0;
  const { url, send, upstream } = await startCachedGateway(t, (_request, response) => {
    calls++;
    setTimeout(() => {
      response.writeHead(200, { 'cache-control': 'private' });
      response.end(`private ${calls}`);
    }, 50);
  });
  const responses = await Promise.all(Array.from({ length: 5 }, () => send(`${url}/api/mine`)));
  assert.ok(responses.every((response) => response.status === 200));
  assert.ok(responses.every((response) => response.headers['x-cache'] === 'MISS'));
  assert.equal(
    upstream.requests.length,
    5,
    'a private answer is never shared with waiting requests',
  );
});

test('cache evicts a path after a successful POST', async (t) => {
  const { url, send, upstream } = await startCachedGateway(t, countingHandler());
  await send(`${url}/api/orders`);
  await send(`${url}/api/orders?page=2`);
  await send(`${url}/api/other`);
  assert.equal((await send(`${url}/api/orders`)).headers['x-cache'], 'HIT');
  const created = await send(`${url}/api/orders`, {
    method: 'POST',
    body: '{}',
    headers: { 'content-type': 'application/json' },
  });
  assert.equal(created.status, 200);
  assert.equal((await send(`${url}/api/orders`)).headers['x-cache'], 'MISS');
  const otherQuery = await send(`${url}/api/orders?page=2`);
  assert.equal(otherQuery.headers['x-cache'], 'MISS', 'every query of the path is evicted');
  assert.equal((await send(`${url}/api/other`)).headers['x-cache'], 'HIT', 'other paths stay');
  assert.equal(upstream.requests.length, 6);
});

test('cache keeps an entry after a failed unsafe request', async (t) => {
  const { url, send } = await startCachedGateway(t, (request, response) => {
    response.writeHead(request.method === 'GET' ? 200 : 409);
    response.end(request.method);
  });
  await send(`${url}/api/doc`);
  const conflict = await send(`${url}/api/doc`, { method: 'PUT', body: 'x' });
  assert.equal(conflict.status, 409);
  assert.equal((await send(`${url}/api/doc`)).headers['x-cache'], 'HIT');
});

test('cache passes large bodies through whole', async (t) => {
  const big = Buffer.alloc(300 * 1024, 'a');
  const { url, send } = await startCachedGateway(
    t,
    (request, response) => {
      if (request.url === '/chunked') {
        response.writeHead(200, { 'content-type': 'application/octet-stream' });
        response.write(big.subarray(0, 100 * 1024));
        setTimeout(() => response.end(big.subarray(100 * 1024)), 10);
        return;
      }
      response.writeHead(200, { 'content-length': String(big.length) });
      response.end(big);
    },
    'cache: { ttl: 1m, max_body: 200kb }',
  );
  for (const path of ['/declared', '/chunked']) {
    const first = await send(`${url}/api${path}`);
    assert.equal(first.text.length, big.length, `${path} must arrive whole`);
    const second = await send(`${url}/api${path}`);
    assert.equal(second.text.length, big.length);
    assert.equal(second.headers['x-cache'], 'MISS', `${path} over max_body must not be stored`);
  }
});

test('cache stores a chunked body within the limit', async (t) => {
  const { url, send } = await startCachedGateway(t, (_request, response) => {
    response.writeHead(200, { 'content-type': 'text/plain' });
    response.write('first part, ');
    setTimeout(() => response.end('second part'), 10);
  });
  await send(`${url}/api/stream`);
  const hit = await send(`${url}/api/stream`);
  assert.equal(hit.headers['x-cache'], 'HIT');
  assert.equal(hit.text, 'first part, second part');
  assert.equal(hit.headers['content-length'], '23');
});

test('cache answers conditional requests per URL', async (t) => {
  const { url, send, upstream } = await startCachedGateway(t, (request, response) => {
    response.writeHead(200, { etag: request.url === '/a' ? '"tag-a"' : '"tag-b"' });
    response.end(`body of ${request.url}`);
  });
  await send(`${url}/api/a`);
  await send(`${url}/api/b`);
  const notModified = await send(`${url}/api/a`, { headers: { 'if-none-match': '"tag-a"' } });
  assert.equal(notModified.status, 304);
  assert.equal(notModified.headers.etag, '"tag-a"');
  assert.equal(notModified.text, '');
  const otherUrl = await send(`${url}/api/b`, { headers: { 'if-none-match': '"tag-a"' } });
  assert.equal(otherUrl.status, 200, 'an ETag of /a must not validate /b');
  assert.equal(otherUrl.text, 'body of /b');
  assert.equal(upstream.requests.length, 2);
});

test('cache age counts from the upstream age', async (t) => {
  const { url, send } = await startCachedGateway(t, (_request, response) => {
    response.writeHead(200, { age: '30', 'cache-control': 'max-age=600' });
    response.end('aged');
  });
  await send(`${url}/api/aged`);
  const hit = await send(`${url}/api/aged`);
  assert.equal(hit.headers['x-cache'], 'HIT');
  assert.ok(Number(hit.headers.age) >= 30, `age ${hit.headers.age} must include the upstream age`);
});

test('cache config errors', async () => {
  const route = 'routes:\n  - path: /api/*\n    target: http://127.0.0.1:9\n';
  await assert.rejects(loadTestConfig(`${route}    cache: soon\n`), (error: unknown) => {
    assert.ok(error instanceof ConfigError);
    assert.equal(
      error.issues[0].message,
      'expected a TTL such as 60s or 5m, or a map with ttl: and other cache options, found "soon"',
    );
    assert.equal(error.issues[0].line, 4);
    return true;
  });
  await assert.rejects(
    loadTestConfig(`${route}    cache: { ttl: 1m, user_key: [principal] }\n`),
    /"principal" needs the auth policy before the cache/,
  );
  await assert.rejects(
    loadTestConfig(`${route}    cache: { ttl: 1m, user_key: [session] }\n`),
    /expected principal, authorization, cookie, cookie:<name> or header:<name>/,
  );
  await assert.rejects(
    loadTestConfig(`${route}    cache: { ttl: 1m, user_key: principal }\n`),
    /"principal" needs the auth policy before the cache/,
    'one part may be written without brackets',
  );
  await assert.rejects(
    loadTestConfig(`${route}    cache: { ttl: 1m, user_key: session }\n`),
    /expected principal, authorization, cookie, cookie:<name> or header:<name>, or a list/,
  );
  const single = await loadTestConfig(`${route}    cache: { ttl: 1m, user_key: authorization }\n`);
  const policy = single.config.routes[0].policies.find((ref) => ref.name === 'cache');
  assert.ok(policy, 'the route runs the cache policy');
  assert.deepEqual((policy.options as { user_key: string[] }).user_key, ['authorization']);
});

test('cache store with an unreadable entry answers 500', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'pactown-broken-store-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const module = join(dir, 'broken-store.mjs');
  // The entry arrives through a promise and has no headers, so serving it throws in a callback.
  writeFileSync(
    module,
    `export default {
  name: 'broken', kind: 'cache-store', apiVersion: 1,
  create: () => ({
    get: async () => ({ status: 200, headers: null, body: Buffer.from('x'), storedAt: 0, expiresAt: Number.MAX_SAFE_INTEGER }),
    set: async () => {}, delete: async () => {}, invalidate: async () => {},
    size: () => ({ entries: 0, bytes: 0 }),
  }),
};
`,
  );
  const { url, send } = await startCachedGateway(
    t,
    countingHandler(),
    'cache: { ttl: 60s, store: broken }',
    `plugins: [${module}]\n`,
  );
  const first = await send(`${url}/api/items`);
  assert.equal(first.status, 500);
  const health = await send(`${url}/health`);
  assert.equal(health.status, 200, 'the gateway still answers after the failure');
});
