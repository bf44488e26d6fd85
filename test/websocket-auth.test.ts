import assert from 'node:assert/strict';
import { it } from 'node:test';
import { SignJWT } from 'jose';
import {
  connect,
  expectRejection,
  startWsGateway,
  startWsUpstream,
  upstreamConnections,
} from './websocket-helpers.js';

const SECRET = 'websocket-test-secret-of-at-least-32-bytes';

async function signToken(subject: string, secret = SECRET): Promise<string> {
  return new SignJWT({})
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(subject)
    .setExpirationTime('5m')
    .sign(new TextEncoder().encode(secret));
}

it('websocket auth jwt reads the Authorization header', async (t) => {
  const upstream = await startWsUpstream(t);
  const { wsUrl } = await startWsGateway(
    t,
    `routes:\n  - path: /ws\n    target: ${upstream.url}\n    websocket: true\n    auth: jwt\n`,
    { env: { JWT_SECRET: SECRET } },
  );

  const missing = await expectRejection(`${wsUrl}/ws`);
  assert.equal(missing.status, 401);
  assert.equal(missing.body.code, 'PACTOWN_ERR_AUTH_MISSING');
  assert.equal(missing.body.route, '/ws');

  const forged = await expectRejection(`${wsUrl}/ws`, [], {
    headers: { authorization: `Bearer ${await signToken('mallory', `${SECRET}-other`)}` },
  });
  assert.equal(forged.status, 401);
  assert.equal(forged.body.code, 'PACTOWN_ERR_AUTH_INVALID');
  assert.equal(upstream.upgrades.length, 0);

  await connect(t, `${wsUrl}/ws`, [], {
    headers: { authorization: `Bearer ${await signToken('alice')}` },
  });
  await upstreamConnections(upstream, 1);
  assert.equal(upstream.upgrades[0].headers.authorization, undefined);
});

it('websocket auth jwt reads a query parameter', async (t) => {
  const upstream = await startWsUpstream(t);
  const { wsUrl } = await startWsGateway(
    t,
    `routes:\n  - path: /ws\n    target: ${upstream.url}\n    websocket: true\n    auth:\n      scheme: jwt\n      query: access_token\n`,
    { env: { JWT_SECRET: SECRET } },
  );

  const wrong = await expectRejection(`${wsUrl}/ws?access_token=not-a-token`);
  assert.equal(wrong.status, 401);
  assert.equal(upstream.upgrades.length, 0);

  const token = await signToken('browser-user');
  await connect(t, `${wsUrl}/ws/room?access_token=${token}&room=7`);
  await upstreamConnections(upstream, 1);
  // The auth policy removes the credential before the request is forwarded.
  assert.equal(upstream.upgrades[0].url, '/room?room=7');
});

it('websocket rate_limit counts connections', async (t) => {
  const upstream = await startWsUpstream(t);
  const { wsUrl } = await startWsGateway(
    t,
    `routes:\n  - path: /ws\n    target: ${upstream.url}\n    websocket: true\n    rate_limit: 2/min\n`,
  );

  await connect(t, `${wsUrl}/ws`);
  await connect(t, `${wsUrl}/ws`);
  const limited = await expectRejection(`${wsUrl}/ws`);

  assert.equal(limited.status, 429);
  assert.equal(limited.body.code, 'PACTOWN_ERR_RATE_LIMITED');
  await upstreamConnections(upstream, 2);
  assert.equal(upstream.upgrades.length, 2);
});

it('websocket ip-allow rejects other addresses', async (t) => {
  const upstream = await startWsUpstream(t);
  const { wsUrl } = await startWsGateway(
    t,
    `routes:\n  - path: /private\n    target: ${upstream.url}\n    websocket: true\n    plugins:\n      - ip-allow: {allow: [10.0.0.0/8]}\n  - path: /local\n    target: ${upstream.url}\n    websocket: true\n    plugins:\n      - ip-allow: {allow: [127.0.0.1]}\n`,
  );

  const rejection = await expectRejection(`${wsUrl}/private`);
  assert.equal(rejection.status, 403);
  assert.equal(rejection.body.code, 'PACTOWN_ERR_IP_FORBIDDEN');
  assert.equal(upstream.upgrades.length, 0);

  await connect(t, `${wsUrl}/local`);
  await upstreamConnections(upstream, 1);
});
