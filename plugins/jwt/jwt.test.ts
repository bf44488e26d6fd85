import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { exportSPKI, type GenerateKeyPairResult, generateKeyPair, SignJWT } from 'jose';
import { ConfigError } from '../../core/index.js';
import {
  loadTestConfig,
  spawnGateway,
  startGatewayFor,
  startUpstream,
  writeConfig,
} from '../../test/helpers.js';
import { echoedHeaders, echoedUrl, httpClient } from '../../test/policies-support.js';

const SECRET = 'test-secret-with-at-least-32-bytes!!';
const secretBytes = new TextEncoder().encode(SECRET);

async function hsToken(
  claims: Record<string, unknown> = { sub: 'user-1' },
  options: { alg?: string; expiresIn?: string | number; secret?: Uint8Array } = {},
): Promise<string> {
  const jwt = new SignJWT(claims).setProtectedHeader({ alg: options.alg ?? 'HS256' }).setIssuedAt();
  if (options.expiresIn !== undefined) {
    jwt.setExpirationTime(options.expiresIn);
  } else {
    jwt.setExpirationTime('1h');
  }
  return jwt.sign(options.secret ?? secretBytes);
}

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

function base64url(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

async function startJwtGateway(t: import('node:test').TestContext, routeOptions = 'auth: jwt') {
  const upstream = await startUpstream();
  t.after(() => upstream.close());
  const { url } = await startGatewayFor(
    t,
    `routes:\n  - path: /api/*\n    target: ${upstream.url}\n    ${routeOptions}\n`,
    { JWT_SECRET: SECRET },
  );
  return { upstream, url, send: httpClient(t) };
}

test('jwt shorthand accepts HS256 to HS512', async (t) => {
  const { url, send } = await startJwtGateway(t);
  for (const alg of ['HS256', 'HS384', 'HS512']) {
    const response = await send(`${url}/api/orders`, {
      headers: bearer(await hsToken({}, { alg })),
    });
    assert.equal(response.status, 200, `${alg} must be accepted`);
  }
});

test('jwt missing token gets a challenge', async (t) => {
  const { url, send, upstream } = await startJwtGateway(t);
  const missing = await send(`${url}/api/orders`);
  assert.equal(missing.status, 401);
  assert.equal(missing.headers['www-authenticate'], 'Bearer');
  assert.deepEqual(missing.json(), {
    error: 'missing bearer token',
    code: 'PACTOWN_ERR_AUTH_MISSING',
    route: '/api/*',
  });
  const basic = await send(`${url}/api/orders`, { headers: { authorization: 'Basic dTpw' } });
  assert.equal(basic.status, 401);
  assert.equal(basic.json().code, 'PACTOWN_ERR_AUTH_INVALID');
  assert.equal(basic.headers['www-authenticate'], 'Bearer error="invalid_token"');
  const garbage = await send(`${url}/api/orders`, { headers: bearer('not.a.token') });
  assert.equal(garbage.status, 401);
  assert.equal(garbage.json().code, 'PACTOWN_ERR_AUTH_INVALID');
  assert.equal(upstream.requests.length, 0, 'rejected requests must not reach the upstream');
});

test('jwt rejects a tampered signature', async (t) => {
  const { url, send } = await startJwtGateway(t);
  const [header, , signature] = (await hsToken()).split('.');
  const forged = `${header}.${base64url({ sub: 'admin', exp: 4_000_000_000 })}.${signature}`;
  const response = await send(`${url}/api/orders`, { headers: bearer(forged) });
  assert.equal(response.status, 401);
  assert.equal(response.json().error, 'the token signature is invalid');
  const otherSecret = new TextEncoder().encode('another-secret-of-at-least-32-bytes');
  const wrongKey = await send(`${url}/api/orders`, {
    headers: bearer(await hsToken({}, { secret: otherSecret })),
  });
  assert.equal(wrongKey.status, 401);
});

test('jwt rejects alg none', async (t) => {
  const { url, send } = await startJwtGateway(t);
  const unsigned = `${base64url({ alg: 'none', typ: 'JWT' })}.${base64url({ sub: 'admin', exp: 4_000_000_000 })}.`;
  const response = await send(`${url}/api/orders`, { headers: bearer(unsigned) });
  assert.equal(response.status, 401);
  assert.equal(response.json().code, 'PACTOWN_ERR_AUTH_INVALID');
  assert.match(String(response.headers['www-authenticate']), /^Bearer error="invalid_token"/);
});

test('jwt rejects an unknown crit header', async (t) => {
  const { url, send } = await startJwtGateway(t);
  // Signed by hand, because jose raises an error when signing with an unknown crit parameter.
  const header = base64url({ alg: 'HS256', typ: 'JWT', crit: ['x-unknown'], 'x-unknown': 1 });
  const payload = base64url({ sub: 'user-1', exp: Math.floor(Date.now() / 1000) + 3600 });
  const signature = createHmac('sha256', SECRET).update(`${header}.${payload}`).digest('base64url');
  const token = `${header}.${payload}.${signature}`;
  const response = await send(`${url}/api/orders`, { headers: bearer(token) });
  assert.equal(response.status, 401);
  assert.equal(
    response.json().error,
    'the token uses an algorithm or a crit header that is not supported',
  );
});

test('jwt rejects expired and future tokens', async (t) => {
  const { url, send } = await startJwtGateway(t);
  const now = Math.floor(Date.now() / 1000);
  const expired = await send(`${url}/api/orders`, {
    headers: bearer(await hsToken({ sub: 'u' }, { expiresIn: now - 3600 })),
  });
  assert.equal(expired.status, 401);
  assert.equal(expired.json().code, 'PACTOWN_ERR_AUTH_EXPIRED');
  assert.match(String(expired.headers['www-authenticate']), /invalid_token/);
  const future = await send(`${url}/api/orders`, {
    headers: bearer(await hsToken({ sub: 'u', nbf: now + 3600 })),
  });
  assert.equal(future.status, 401);
  assert.equal(future.json().code, 'PACTOWN_ERR_AUTH_INVALID');
  assert.match(future.json<{ error: string }>().error, /nbf/);
});

test('jwt tolerates configured clock skew', async (t) => {
  const { url, send } = await startJwtGateway(t, 'auth: { scheme: jwt, clock_tolerance: 30s }');
  const now = Math.floor(Date.now() / 1000);
  const slightlyExpired = await hsToken({ sub: 'u' }, { expiresIn: now - 10 });
  assert.equal((await send(`${url}/api/a`, { headers: bearer(slightlyExpired) })).status, 200);
  const slightlyEarly = await hsToken({ sub: 'u', nbf: now + 10 });
  assert.equal((await send(`${url}/api/a`, { headers: bearer(slightlyEarly) })).status, 200);
  const tooOld = await hsToken({ sub: 'u' }, { expiresIn: now - 60 });
  assert.equal((await send(`${url}/api/a`, { headers: bearer(tooOld) })).status, 401);
});

test('jwt checks issuer and audience', async (t) => {
  const { url, send } = await startJwtGateway(
    t,
    'auth: { scheme: jwt, issuer: https://issuer.test/, audience: [orders, billing] }',
  );
  const good = await hsToken({ sub: 'u', iss: 'https://issuer.test/', aud: 'billing' });
  assert.equal((await send(`${url}/api/a`, { headers: bearer(good) })).status, 200);
  const cases: [string, Record<string, unknown>][] = [
    ['wrong issuer', { sub: 'u', iss: 'https://evil.test/', aud: 'orders' }],
    ['wrong audience', { sub: 'u', iss: 'https://issuer.test/', aud: 'shipping' }],
    ['no issuer', { sub: 'u', aud: 'orders' }],
    ['no audience', { sub: 'u', iss: 'https://issuer.test/' }],
  ];
  for (const [name, claims] of cases) {
    const response = await send(`${url}/api/a`, { headers: bearer(await hsToken(claims)) });
    assert.equal(response.status, 401, `${name} must be rejected`);
    assert.equal(response.json().code, 'PACTOWN_ERR_AUTH_INVALID', name);
  }
});

test('jwt verifies each public key family', async (t) => {
  const upstream = await startUpstream();
  t.after(() => upstream.close());
  const families = ['RS256', 'PS256', 'ES256', 'EdDSA'];
  const file = writeConfig('');
  const dir = dirname(file);
  const keys = new Map<string, GenerateKeyPairResult>();
  let routes = '';
  for (const alg of families) {
    const pair = await generateKeyPair(alg);
    keys.set(alg, pair);
    writeFileSync(join(dir, `${alg}.pem`), await exportSPKI(pair.publicKey));
    routes += `  - path: /${alg.toLowerCase()}/*\n    target: ${upstream.url}\n    auth: { scheme: jwt, public_key_file: ${join(dir, `${alg}.pem`)} }\n`;
  }
  const { url } = await startGatewayFor(t, `routes:\n${routes}`);
  const send = httpClient(t);
  for (const alg of families) {
    const token = await new SignJWT({ sub: `user-${alg}` })
      .setProtectedHeader({ alg })
      .setExpirationTime('1h')
      .sign(keys.get(alg)!.privateKey);
    const accepted = await send(`${url}/${alg.toLowerCase()}/x`, { headers: bearer(token) });
    assert.equal(accepted.status, 200, `${alg} must be accepted`);
    const other = families.find((candidate) => candidate !== alg)!;
    const crossed = await send(`${url}/${other.toLowerCase()}/x`, { headers: bearer(token) });
    assert.equal(crossed.status, 401, `an ${alg} token must fail on the ${other} route`);
  }
});

test('jwt rejects algorithm confusion', async (t) => {
  const upstream = await startUpstream();
  t.after(() => upstream.close());
  const pair = await generateKeyPair('RS256');
  const pem = await exportSPKI(pair.publicKey);
  const file = writeConfig('');
  const keyFile = join(dirname(file), 'public.pem');
  writeFileSync(keyFile, pem);
  const { url } = await startGatewayFor(
    t,
    `routes:\n  - path: /api/*\n    target: ${upstream.url}\n    auth: { scheme: jwt, public_key_file: ${keyFile} }\n`,
  );
  const send = httpClient(t);
  // The classic attack: an HS256 token whose HMAC key is the server's RSA public key.
  const header = base64url({ alg: 'HS256', typ: 'JWT' });
  const payload = base64url({ sub: 'admin', exp: Math.floor(Date.now() / 1000) + 3600 });
  const signature = createHmac('sha256', pem).update(`${header}.${payload}`).digest('base64url');
  const response = await send(`${url}/api/a`, {
    headers: bearer(`${header}.${payload}.${signature}`),
  });
  assert.equal(response.status, 401);
  assert.equal(response.json().error, 'the token algorithm is not allowed on this route');
  assert.equal(upstream.requests.length, 0);
});

test('jwt strips authorization before the upstream', async (t) => {
  const upstream = await startUpstream();
  t.after(() => upstream.close());
  const { url } = await startGatewayFor(
    t,
    `routes:
  - path: /stripped/*
    target: ${upstream.url}
    auth: jwt
  - path: /passed/*
    target: ${upstream.url}
    auth: { scheme: jwt, pass_authorization: true }
`,
    { JWT_SECRET: SECRET },
  );
  const send = httpClient(t);
  const token = await hsToken();
  const stripped = await send(`${url}/stripped/a`, { headers: bearer(token) });
  assert.equal(stripped.status, 200);
  assert.equal(echoedHeaders(stripped).authorization, undefined);
  const passed = await send(`${url}/passed/a`, { headers: bearer(token) });
  assert.equal(echoedHeaders(passed).authorization, `Bearer ${token}`);
});

test('jwt forwards chosen claims as headers', async (t) => {
  const { url, send } = await startJwtGateway(
    t,
    'auth: { scheme: jwt, forward_claims: { sub: x-user-id, roles: x-user-roles, tenant: x-tenant } }',
  );
  const token = await hsToken({ sub: 'user-7', roles: ['admin', 'ops'] });
  const response = await send(`${url}/api/a`, {
    headers: { ...bearer(token), 'x-user-id': 'spoofed', 'x-tenant': 'spoofed' },
  });
  const headers = echoedHeaders(response);
  assert.equal(headers['x-user-id'], 'user-7');
  assert.equal(headers['x-user-roles'], '["admin","ops"]');
  assert.equal(headers['x-tenant'], undefined, 'a header for an absent claim must be removed');
});

test('jwt missing scope gives 403', async (t) => {
  const { url, send } = await startJwtGateway(
    t,
    'auth: { scheme: jwt, required_scopes: [orders:read] }',
  );
  const allowed = await hsToken({ sub: 'u', scope: 'profile orders:read' });
  assert.equal((await send(`${url}/api/a`, { headers: bearer(allowed) })).status, 200);
  const listed = await hsToken({ sub: 'u', scp: ['orders:read'] });
  assert.equal((await send(`${url}/api/a`, { headers: bearer(listed) })).status, 200);
  const lacking = await send(`${url}/api/a`, {
    headers: bearer(await hsToken({ sub: 'u', scope: 'profile' })),
  });
  assert.equal(lacking.status, 403);
  assert.equal(lacking.json().code, 'PACTOWN_ERR_AUTH_FORBIDDEN');
  assert.equal(
    lacking.headers['www-authenticate'],
    'Bearer error="insufficient_scope", scope="orders:read"',
  );
});

test('jwt reads a token from the query', async (t) => {
  const { url, send } = await startJwtGateway(t, 'auth: { scheme: jwt, query: access_token }');
  const token = await hsToken();
  const response = await send(`${url}/api/feed?topic=a&access_token=${token}&page=2`);
  assert.equal(response.status, 200);
  assert.equal(
    echoedUrl(response),
    '/feed?topic=a&page=2',
    'the token must not reach the upstream',
  );
});

test('jwt verification cache still enforces expiry', async (t) => {
  const { url, send } = await startJwtGateway(t);
  const now = Math.floor(Date.now() / 1000);
  const token = await hsToken({ sub: 'u' }, { expiresIn: now + 2 });
  assert.equal((await send(`${url}/api/a`, { headers: bearer(token) })).status, 200);
  assert.equal((await send(`${url}/api/a`, { headers: bearer(token) })).status, 200);
  // Past exp plus the default 30 s tolerance the cached verification must not count.
  const { JwtScheme } = await import('./scheme.js');
  const { jwtSettings } = await import('./options.js');
  let clock = Date.now();
  const key = await crypto.subtle.importKey(
    'raw',
    secretBytes,
    { name: 'HMAC', hash: 'SHA-256' },
    false,
    ['verify'],
  );
  const scheme = new JwtScheme(
    jwtSettings({}),
    ['HS256'],
    () => key as never,
    () => clock,
  );
  const request = { headers: bearer(token), raw: { url: '/' } } as never;
  assert.equal((await scheme.authenticate(request)).ok, true);
  clock += 40_000;
  const later = await scheme.authenticate(request);
  assert.equal(later.ok, false);
  assert.equal(later.ok === false && later.code, 'PACTOWN_ERR_AUTH_EXPIRED');
});

async function configIssues(text: string, env: NodeJS.ProcessEnv = {}) {
  try {
    await loadTestConfig(text, env);
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${error}`);
    return error.issues;
  }
  assert.fail('the config must be rejected');
}

test('jwt without a secret is a config error', async () => {
  const issues = await configIssues(
    'routes:\n  - path: /api/*\n    target: http://127.0.0.1:9\n    auth: jwt\n',
  );
  assert.equal(issues.length, 1);
  assert.match(issues[0].message, /JWT_SECRET is not set/);
  assert.equal(issues[0].line, 4);
  assert.equal(issues[0].path, 'routes[0].auth');
  const empty = await configIssues(
    'routes:\n  - path: /api/*\n    target: http://127.0.0.1:9\n    auth: jwt\n',
    { JWT_SECRET: '' },
  );
  assert.match(empty[0].message, /JWT_SECRET is not set/);
  const emptyOption = await configIssues(
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a YAML ${...} reference
    'routes:\n  - path: /api/*\n    target: http://127.0.0.1:9\n    auth: { scheme: jwt, secret: "${EMPTY:-}" }\n',
  );
  assert.equal(emptyOption[0].path, 'routes[0].auth.secret');
});

test('jwt key and algorithm mistakes are config errors', async () => {
  const route = (auth: string) =>
    `routes:\n  - path: /api/*\n    target: http://127.0.0.1:9\n    auth: ${auth}\n`;
  const mixed = await configIssues(route('{ scheme: jwt, secret: abc, algorithms: [RS256] }'));
  assert.match(mixed[0].message, /RS256 cannot be verified with a secret/);
  assert.equal(mixed[0].path, 'routes[0].auth.algorithms');
  const both = await configIssues(
    route('{ scheme: jwt, secret: abc, jwks_url: "http://127.0.0.1:9/jwks" }'),
  );
  assert.match(both[0].message, /give only one of/);
  const jwksHmac = await configIssues(
    route('{ scheme: jwt, jwks_url: "http://127.0.0.1:9/jwks", algorithms: [HS256] }'),
  );
  assert.match(jwksHmac[0].message, /HS256 cannot be verified/);
  const unknown = await configIssues(route('{ scheme: jwt, secret: abc, algorithm: HS256 }'));
  assert.match(unknown[0].message, /unknown key "algorithm"/);
  assert.equal(unknown[0].hint, 'did you mean "algorithms"?');
  const badPem = await configIssues(
    route('{ scheme: jwt, public_key: "-----BEGIN PUBLIC KEY-----\\nxx" }'),
  );
  assert.match(badPem[0].message, /invalid PEM public key/);
});

test('short jwt secret names its source', async (t) => {
  const upstream = await startUpstream();
  t.after(() => upstream.close());
  const short = 'short-secret-LEAK';
  const warning = 'jwt secret is shorter than recommended for HS256';
  const inline = writeConfig(
    `routes:\n  - path: /api/*\n    target: ${upstream.url}\n    auth: { scheme: jwt, secret: ${short} }\n`,
  );
  const fromOption = await spawnGateway(t, inline, { JWT_SECRET: '' });
  const optionLine = fromOption.logs.find((line) => line.msg === warning);
  assert.ok(optionLine, JSON.stringify(fromOption.logs));
  assert.equal(optionLine.option, 'secret');
  assert.equal(optionLine.env, undefined);
  assert.ok(!JSON.stringify(fromOption.logs).includes(short), 'the secret is not logged');

  const shorthand = writeConfig(
    `routes:\n  - path: /api/*\n    target: ${upstream.url}\n    auth: jwt\n`,
  );
  const fromEnv = await spawnGateway(t, shorthand, { JWT_SECRET: short });
  const envLine = fromEnv.logs.find((line) => line.msg === warning);
  assert.ok(envLine, JSON.stringify(fromEnv.logs));
  assert.equal(envLine.env, 'JWT_SECRET');
  assert.equal(envLine.option, undefined);
  assert.ok(!JSON.stringify(fromEnv.logs).includes(short), 'the secret is not logged');
});
