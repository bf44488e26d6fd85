import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { it } from 'node:test';
import {
  closed,
  connect,
  nextMessage,
  startWsGateway,
  startWsUpstream,
  upstreamConnections,
  within,
} from './websocket-helpers.js';

function wsRoute(upstreamUrl: string, extra = ''): string {
  return `routes:\n  - path: /ws\n    target: ${upstreamUrl}\n    websocket: true\n${extra}`;
}

it('websocket echoes text and binary frames', async (t) => {
  const upstream = await startWsUpstream(t);
  const { wsUrl } = await startWsGateway(t, wsRoute(upstream.url));
  const client = await connect(t, `${wsUrl}/ws`);

  client.send('hello');
  const text = await nextMessage(client);
  assert.equal(text.isBinary, false);
  assert.equal(text.data.toString('utf8'), 'hello');

  const bytes = randomBytes(300);
  client.send(bytes);
  const binary = await nextMessage(client);
  assert.equal(binary.isBinary, true);
  assert.deepEqual(binary.data, bytes);
});

it('websocket relays a 1 MiB message both ways', async (t) => {
  const upstream = await startWsUpstream(t);
  const { wsUrl } = await startWsGateway(t, wsRoute(upstream.url));
  const client = await connect(t, `${wsUrl}/ws`);
  const payload = randomBytes(1024 * 1024);

  client.send(payload);
  const echoed = await nextMessage(client);

  assert.equal(echoed.data.length, payload.length);
  assert.ok(echoed.data.equals(payload));
});

it('websocket closes a message over ws_max_message_size with 1009', async (t) => {
  const upstream = await startWsUpstream(t);
  const { wsUrl } = await startWsGateway(
    t,
    wsRoute(upstream.url, '    ws_max_message_size: 1kb\n'),
  );
  const client = await connect(t, `${wsUrl}/ws`);
  await upstreamConnections(upstream, 1);
  const upstreamClosed = closed(upstream.sockets[0]);

  client.send(Buffer.alloc(1024, 1));
  assert.equal((await nextMessage(client)).data.length, 1024);
  const clientClosed = closed(client);
  client.send(Buffer.alloc(1025, 1));

  assert.equal((await clientClosed).code, 1009);
  const upstreamSide = await upstreamClosed;
  assert.equal(upstreamSide.code, 1001);
  assert.equal(upstreamSide.reason, 'client connection failed');
});

it('websocket limits upstream messages too', async (t) => {
  const upstream = await startWsUpstream(t, (socket) => {
    socket.on('message', () => socket.send(Buffer.alloc(2048)));
  });
  const { wsUrl } = await startWsGateway(
    t,
    wsRoute(upstream.url, '    ws_max_message_size: 1kb\n'),
  );
  const client = await connect(t, `${wsUrl}/ws`);
  const clientClosed = closed(client);

  client.send('send me too much');

  const side = await clientClosed;
  assert.equal(side.code, 1014);
  assert.equal(side.reason, 'upstream connection failed');
});

it('websocket passes ping and pong through', async (t) => {
  const upstreamPings: string[] = [];
  const upstream = await startWsUpstream(t, (socket) => {
    socket.on('ping', (data) => upstreamPings.push(data.toString('utf8')));
  });
  const { wsUrl } = await startWsGateway(t, wsRoute(upstream.url));
  const client = await connect(t, `${wsUrl}/ws`);
  await upstreamConnections(upstream, 1);

  const pongs: string[] = [];
  client.on('pong', (data) => pongs.push(data.toString('utf8')));
  const pong = within(new Promise((resolve) => client.once('pong', resolve)), 'a pong');
  client.ping('client-ping');
  await pong;
  assert.deepEqual(upstreamPings, ['client-ping']);
  assert.deepEqual(pongs, ['client-ping']);

  const ping = within(
    new Promise<Buffer>((resolve) => client.once('ping', resolve)),
    'a ping from the upstream',
  );
  const upstreamPong = within(
    new Promise<Buffer>((resolve) => upstream.sockets[0].once('pong', resolve)),
    'a pong at the upstream',
  );
  upstream.sockets[0].ping('upstream-ping');
  assert.equal((await ping).toString('utf8'), 'upstream-ping');
  assert.equal((await upstreamPong).toString('utf8'), 'upstream-ping');
  // One pong only: the gateway forwards the client's pong instead of replying to pings itself.
  await new Promise((resolve) => setTimeout(resolve, 100));
  assert.deepEqual(pongs, ['client-ping']);
});

it('websocket negotiates the subprotocol with the upstream', async (t) => {
  const upstream = await startWsUpstream(t, undefined, {
    handleProtocols: (offered) => (offered.has('chat.v1') ? 'chat.v1' : false),
  });
  const { wsUrl } = await startWsGateway(t, wsRoute(upstream.url));

  const client = await connect(t, `${wsUrl}/ws`, ['chat.v2', 'chat.v1']);

  assert.equal(client.protocol, 'chat.v1');
  await upstreamConnections(upstream, 1);
  const offered = upstream.upgrades[0].headers['sec-websocket-protocol'] ?? '';
  assert.deepEqual(
    offered.split(',').map((name) => name.trim()),
    ['chat.v2', 'chat.v1'],
  );
  assert.equal(upstream.upgrades[0].protocol, 'chat.v1');
});

it('websocket keeps an upstream that selects no subprotocol', async (t) => {
  const upstream = await startWsUpstream(t, undefined, { handleProtocols: () => false });
  const { wsUrl } = await startWsGateway(t, wsRoute(upstream.url));
  const raw = await rawUpgrade(wsUrl.replace('ws://', ''), '/ws', 'chat.v1');

  assert.match(raw, /^HTTP\/1\.1 101 /);
  assert.doesNotMatch(raw, /sec-websocket-protocol/i);
});

it('websocket forwards path, query and headers', async (t) => {
  const upstream = await startWsUpstream(t);
  const { wsUrl } = await startWsGateway(
    t,
    `routes:\n  - path: /ws\n    target: ${upstream.url}/base\n    websocket: true\n`,
  );

  await connect(t, `${wsUrl}/ws/room/7?b=2&a=1&a=%20x&flag`, [], {
    headers: { 'x-custom': 'yes', cookie: 'session=abc', origin: 'https://app.example' },
  });

  await upstreamConnections(upstream, 1);
  const received = upstream.upgrades[0];
  assert.equal(received.url, '/base/room/7?b=2&a=1&a=%20x&flag');
  assert.equal(received.headers['x-custom'], 'yes');
  assert.equal(received.headers.cookie, 'session=abc');
  assert.equal(received.headers.origin, 'https://app.example');
  assert.equal(received.headers['x-forwarded-for'], '127.0.0.1');
  assert.equal(received.headers['x-forwarded-proto'], 'http');
  assert.equal(received.headers.host, `127.0.0.1:${upstream.port}`);
});

it('websocket still proxies plain HTTP on the route', async (t) => {
  const upstream = await startWsUpstream(t);
  const { url } = await startWsGateway(t, wsRoute(upstream.url));
  // The ws upstream responds to a plain GET with 426, which the gateway passes through.
  const response = await fetch(`${url}/ws/plain`);
  await response.body?.cancel();
  assert.equal(response.status, 426);
});

/** Sends a handshake by hand and returns the response head as text. */
async function rawUpgrade(host: string, path: string, protocol: string): Promise<string> {
  const { connect: netConnect } = await import('node:net');
  const [hostname, port] = host.split(':');
  return within(
    new Promise<string>((resolve, reject) => {
      const socket = netConnect(Number(port), hostname, () => {
        socket.write(
          `GET ${path} HTTP/1.1\r\nHost: ${host}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n` +
            'Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n' +
            `Sec-WebSocket-Protocol: ${protocol}\r\n\r\n`,
        );
      });
      let text = '';
      socket.on('data', (chunk: Buffer) => {
        text += chunk.toString('latin1');
        const end = text.indexOf('\r\n\r\n');
        if (end !== -1) {
          socket.destroy();
          resolve(text.slice(0, end));
        }
      });
      socket.on('error', reject);
    }),
    'the raw upgrade response',
  );
}
