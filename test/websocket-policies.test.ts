import assert from 'node:assert/strict';
import { connect as netConnect } from 'node:net';
import { it } from 'node:test';
import { rawRequest, startUpstream } from './helpers.js';
import {
  closed,
  connect,
  expectRejection,
  startWsGateway,
  startWsUpstream,
  upstreamConnections,
  within,
} from './websocket-helpers.js';

it('websocket policy rejects before the upstream connects', async (t) => {
  const upstream = await startWsUpstream(t);
  const { wsUrl } = await startWsGateway(
    t,
    `routes:\n  - path: /ws\n    target: ${upstream.url}\n    websocket: true\n    plugins:\n      - test-gate: {status: 401, header: x-token, value: open-sesame}\n`,
  );

  const rejection = await expectRejection(`${wsUrl}/ws`);

  assert.equal(rejection.status, 401);
  assert.equal(rejection.body.code, 'PACTOWN_ERR_TEST_GATE');
  assert.equal(rejection.body.route, '/ws');
  assert.equal(upstream.upgrades.length, 0);

  await connect(t, `${wsUrl}/ws`, [], { headers: { 'x-token': 'open-sesame' } });
  await upstreamConnections(upstream, 1);
});

it('websocket policy reads a query parameter', async (t) => {
  const upstream = await startWsUpstream(t);
  const { wsUrl } = await startWsGateway(
    t,
    `routes:\n  - path: /ws\n    target: ${upstream.url}\n    websocket: true\n    plugins:\n      - test-gate: {status: 403, query: token, value: browser}\n`,
  );

  const rejection = await expectRejection(`${wsUrl}/ws?token=wrong`);
  assert.equal(rejection.status, 403);
  assert.equal(upstream.upgrades.length, 0);

  await connect(t, `${wsUrl}/ws?token=browser`);
  await upstreamConnections(upstream, 1);
  assert.equal(upstream.upgrades[0].url, '/?token=browser');
});

it('websocket connection rate limit gets 429', async (t) => {
  const upstream = await startWsUpstream(t);
  const { wsUrl } = await startWsGateway(
    t,
    `routes:\n  - path: /ws\n    target: ${upstream.url}\n    websocket: true\n    plugins:\n      - test-count: {max: 2}\n`,
  );

  await connect(t, `${wsUrl}/ws`);
  await connect(t, `${wsUrl}/ws`);
  const rejection = await expectRejection(`${wsUrl}/ws`);

  assert.equal(rejection.status, 429);
  assert.equal(rejection.body.code, 'PACTOWN_ERR_TEST_LIMIT');
  await upstreamConnections(upstream, 2);
  assert.equal(upstream.upgrades.length, 2);
});

it('websocket ws_max_connections gets 503', async (t) => {
  const upstream = await startWsUpstream(t);
  const { wsUrl } = await startWsGateway(
    t,
    `routes:\n  - path: /ws\n    target: ${upstream.url}\n    websocket: true\n    ws_max_connections: 2\n`,
  );
  const first = await connect(t, `${wsUrl}/ws`);
  await connect(t, `${wsUrl}/ws`);

  const rejection = await expectRejection(`${wsUrl}/ws`);
  assert.equal(rejection.status, 503);
  assert.equal(rejection.body.code, 'PACTOWN_ERR_WEBSOCKET_CONNECTION_LIMIT');
  assert.equal(upstream.upgrades.length, 2);

  const firstClosed = closed(first);
  first.close(1000);
  await firstClosed;
  // The gateway frees the slot when the client's socket closes, a moment after the close event.
  await new Promise((resolve) => setTimeout(resolve, 50));
  await connect(t, `${wsUrl}/ws`);
  await upstreamConnections(upstream, 3);
});

it('websocket upgrade on an HTTP-only route gets 400', async (t) => {
  const wsUpstream = await startWsUpstream(t);
  const httpUpstream = await startUpstream();
  t.after(() => httpUpstream.close());
  const { url, wsUrl } = await startWsGateway(
    t,
    `routes:\n  - path: /ws\n    target: ${wsUpstream.url}\n    websocket: true\n  - path: /api\n    target: ${httpUpstream.url}\n`,
  );

  const rejection = await expectRejection(`${wsUrl}/api/socket`);

  assert.equal(rejection.status, 400);
  assert.equal(rejection.body.code, 'PACTOWN_ERR_WEBSOCKET_NOT_ENABLED');
  assert.equal(rejection.body.route, '/api');
  assert.equal(httpUpstream.requests.length, 0);
  assert.equal((await rawRequest(url, { path: '/api/x' })).status, 200);
});

it('websocket invalid handshake gets 400', async (t) => {
  const upstream = await startWsUpstream(t);
  const { url } = await startWsGateway(
    t,
    `routes:\n  - path: /ws\n    target: ${upstream.url}\n    websocket: true\n`,
  );
  const { port } = new URL(url);
  const cases = [
    { headers: 'Sec-WebSocket-Version: 12\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n' },
    { headers: 'Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: short\r\n' },
    {
      headers:
        'Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n' +
        'Sec-WebSocket-Protocol: chat, chat\r\n',
    },
  ];
  for (const { headers } of cases) {
    const head = await rawHead(
      Number(port),
      `GET /ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n${headers}\r\n`,
    );
    assert.match(head, /^HTTP\/1\.1 400 /, headers);
    assert.match(head, /PACTOWN_ERR_WEBSOCKET_HANDSHAKE/, headers);
  }
  const versioned = await rawHead(
    Number(port),
    'GET /ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n' +
      'Sec-WebSocket-Version: 12\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n',
  );
  assert.match(versioned, /sec-websocket-version: 13/i);
  assert.equal(upstream.upgrades.length, 0);
});

it('websocket client reset during policies is harmless', async (t) => {
  const upstream = await startWsUpstream(t);
  const { url, wsUrl } = await startWsGateway(
    t,
    `routes:\n  - path: /ws\n    target: ${upstream.url}\n    websocket: true\n    plugins:\n      - test-slow: {ms: 200}\n`,
  );
  const { port } = new URL(url);

  await within(
    new Promise<void>((resolve, reject) => {
      const socket = netConnect(Number(port), '127.0.0.1', () => {
        socket.write(
          'GET /ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n' +
            'Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n',
        );
        setTimeout(() => {
          socket.resetAndDestroy();
          resolve();
        }, 50);
      });
      socket.on('error', reject);
    }),
    'the reset',
  );
  await new Promise((resolve) => setTimeout(resolve, 400));

  assert.equal(upstream.upgrades.length, 0);
  await connect(t, `${wsUrl}/ws`);
  await upstreamConnections(upstream, 1);
});

/** Sends `request` on a fresh connection and returns everything the server wrote back. */
function rawHead(port: number, request: string): Promise<string> {
  return within(
    new Promise<string>((resolve, reject) => {
      const socket = netConnect(port, '127.0.0.1', () => socket.write(request));
      let text = '';
      socket.on('data', (chunk: Buffer) => {
        text += chunk.toString('latin1');
      });
      socket.on('close', () => resolve(text));
      socket.on('error', reject);
    }),
    'the raw response',
  );
}

it('websocket upgrade without websocket routes is plain HTTP', async (t) => {
  const httpUpstream = await startUpstream();
  t.after(() => httpUpstream.close());
  const { wsUrl } = await startWsGateway(
    t,
    `routes:\n  - path: /api\n    target: ${httpUpstream.url}\n`,
  );

  const response = await expectRejection(`${wsUrl}/api/socket`);

  assert.equal(response.status, 200);
  assert.equal(httpUpstream.requests.length, 1);
  assert.equal(httpUpstream.requests[0].url, '/socket');
  assert.equal(httpUpstream.requests[0].headers.upgrade, undefined);
});
