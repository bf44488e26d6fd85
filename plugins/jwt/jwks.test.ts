import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type TestContext, test } from 'node:test';
import { exportJWK, type GenerateKeyPairResult, generateKeyPair, type JWK, SignJWT } from 'jose';
import { startGatewayFor, startUpstream } from '../../test/helpers.js';
import { httpClient } from '../../test/policies-support.js';
import { JwksCache } from './jwks.js';

/** A JWKS endpoint on 127.0.0.1 whose key set a test can swap, counting fetches. */
interface JwksServer {
  url: string;
  fetches: number;
  keys: JWK[];
  /** When false the server responds with 503, as an identity provider in an outage would. */
  healthy: boolean;
  server: Server;
}

async function startJwksServer(t: TestContext, keys: JWK[]): Promise<JwksServer> {
  const state = { fetches: 0, keys, healthy: true } as JwksServer;
  state.server = createServer((_request, response) => {
    state.fetches++;
    if (!state.healthy) {
      response.writeHead(503).end();
      return;
    }
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end(JSON.stringify({ keys: state.keys }));
  });
  await new Promise<void>((resolve) => state.server.listen(0, '127.0.0.1', resolve));
  state.url = `http://127.0.0.1:${(state.server.address() as AddressInfo).port}/jwks.json`;
  t.after(
    () =>
      new Promise<void>((resolve) => {
        state.server.closeAllConnections();
        state.server.close(() => resolve());
      }),
  );
  return state;
}

async function signingKey(kid: string): Promise<{ pair: GenerateKeyPairResult; jwk: JWK }> {
  const pair = await generateKeyPair('ES256');
  const jwk = { ...(await exportJWK(pair.publicKey)), kid, alg: 'ES256', use: 'sig' };
  return { pair, jwk };
}

function sign(pair: GenerateKeyPairResult, kid: string, sub = 'user-1'): Promise<string> {
  return new SignJWT({ sub })
    .setProtectedHeader({ alg: 'ES256', kid })
    .setExpirationTime('1h')
    .sign(pair.privateKey);
}

async function startJwksGateway(t: TestContext, jwksUrl: string, extra = '') {
  const upstream = await startUpstream();
  t.after(() => upstream.close());
  const { url } = await startGatewayFor(
    t,
    `routes:\n  - path: /api/*\n    target: ${upstream.url}\n    auth: { scheme: jwt, jwks_url: "${jwksUrl}"${extra} }\n`,
  );
  return { url, upstream, send: httpClient(t) };
}

test('jwks picks up a rotated key', async (t) => {
  const first = await signingKey('key-1');
  const jwks = await startJwksServer(t, [first.jwk]);
  const { url, send } = await startJwksGateway(t, jwks.url, ', jwks_cooldown: 0');
  const before = await send(`${url}/api/a`, {
    headers: { authorization: `Bearer ${await sign(first.pair, 'key-1')}` },
  });
  assert.equal(before.status, 200);

  const second = await signingKey('key-2');
  jwks.keys = [second.jwk];
  const fetchesBefore = jwks.fetches;
  const rotated = await send(`${url}/api/a`, {
    headers: { authorization: `Bearer ${await sign(second.pair, 'key-2')}` },
  });
  assert.equal(rotated.status, 200, 'a token with the new kid must trigger a refetch and pass');
  assert.equal(jwks.fetches, fetchesBefore + 1);

  // The old key left the set; a token still signed with it now fails, without more fetches
  // than the one refetch its unknown kid allows.
  const retired = await send(`${url}/api/a`, {
    headers: { authorization: `Bearer ${await sign(first.pair, 'key-1')}` },
  });
  assert.equal(retired.status, 401);
  assert.equal(retired.json().error, 'no signing key matches the token "kid"');
});

test('jwks refetch for unknown kids is rate-limited', async (t) => {
  const known = await signingKey('known');
  const jwks = await startJwksServer(t, [known.jwk]);
  const { url, send } = await startJwksGateway(t, jwks.url);
  assert.equal(
    (
      await send(`${url}/api/a`, {
        headers: { authorization: `Bearer ${await sign(known.pair, 'known')}` },
      })
    ).status,
    200,
  );
  const stranger = await signingKey('stranger');
  for (let attempt = 0; attempt < 20; attempt++) {
    const token = await sign(stranger.pair, `random-${attempt}`);
    const response = await send(`${url}/api/a`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(response.status, 401);
  }
  assert.equal(jwks.fetches, 1, 'unknown kids within the 30 s cooldown must not refetch');
});

test('jwks outage gives 503', async (t) => {
  const key = await signingKey('k');
  const jwks = await startJwksServer(t, [key.jwk]);
  jwks.healthy = false;
  const { url, send, upstream } = await startJwksGateway(t, jwks.url);
  const response = await send(`${url}/api/a`, {
    headers: { authorization: `Bearer ${await sign(key.pair, 'k')}` },
  });
  assert.equal(response.status, 503);
  assert.equal(response.json().code, 'PACTOWN_ERR_AUTH_UNAVAILABLE');
  assert.equal(upstream.requests.length, 0);
});

/** Creates a logger that records each line it is asked to log. */
function recordingLogger() {
  const lines: { level: string; fields: Record<string, unknown>; message: string }[] = [];
  const record = (level: string) => (fields: Record<string, unknown>, message: string) =>
    lines.push({ level, fields, message });
  const logger = {
    error: record('error'),
    warn: record('warn'),
    info: record('info'),
    debug: record('debug'),
    child: () => logger,
  };
  return { lines, logger: logger as never };
}

test('jwks keeps stale keys when a refresh fails', async (t) => {
  const key = await signingKey('k');
  const jwks = await startJwksServer(t, [key.jwk]);
  let now = Date.now();
  const { lines, logger } = recordingLogger();
  const cache = new JwksCache(
    new URL(jwks.url),
    { cacheTtlMs: 60_000, cooldownMs: 30_000, timeoutMs: 2000 },
    logger,
    () => now,
  );
  const header = { alg: 'ES256', kid: 'k' };
  assert.ok(await cache.getKey(header, {} as never), 'the first fetch must give the key');
  jwks.healthy = false;
  now += 120_000;
  assert.ok(await cache.getKey(header, {} as never), 'stale keys must stay in use');
  const failures = lines.filter((line) => line.message === 'jwks fetch failed');
  assert.equal(failures.length, 1);
  assert.equal(failures[0].level, 'error');
  assert.equal(failures[0].fields.stale_keys, true);
});

test('jwks fetch failures are logged once a minute', async (t) => {
  const key = await signingKey('k');
  const jwks = await startJwksServer(t, [key.jwk]);
  jwks.healthy = false;
  let now = Date.now();
  const { lines, logger } = recordingLogger();
  const cache = new JwksCache(
    new URL(jwks.url),
    { cacheTtlMs: 60_000, cooldownMs: 1000, timeoutMs: 2000 },
    logger,
    () => now,
  );
  for (let attempt = 0; attempt < 10; attempt++) {
    await assert.rejects(cache.getKey({ alg: 'ES256', kid: 'k' }, {} as never), {
      name: 'KeysUnavailableError',
    });
    now += 2000;
  }
  assert.equal(jwks.fetches, 10, 'each attempt after the retry interval fetches again');
  const failures = lines.filter((line) => line.message === 'jwks fetch failed');
  assert.equal(failures.length, 1, 'ten failures within a minute must log one line');
  now += 60_000;
  await assert.rejects(cache.getKey({ alg: 'ES256', kid: 'k' }, {} as never));
  const later = lines.filter((line) => line.message === 'jwks fetch failed');
  assert.equal(later.length, 2);
  assert.equal(later[1].fields.suppressed, 9);
});
