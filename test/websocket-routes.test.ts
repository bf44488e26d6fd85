import assert from 'node:assert/strict';
import { it } from 'node:test';
import { ConfigError } from '../core/index.js';
import { loadTestConfig, rawRequest } from './helpers.js';
import {
  closed,
  connect,
  nextMessage,
  startWsGateway,
  startWsUpstream,
  upstreamConnections,
} from './websocket-helpers.js';

it('websocket routes reach their own upstreams', async (t) => {
  const chat = await startWsUpstream(t, (socket) => {
    socket.on('message', (data) => socket.send(`chat:${data}`));
  });
  const feed = await startWsUpstream(t, (socket) => {
    socket.on('message', (data) => socket.send(`feed:${data}`));
  });
  const { wsUrl } = await startWsGateway(
    t,
    `routes:\n  - path: /chat\n    target: ${chat.url}\n    websocket: true\n  - path: /feed/*\n    target: ${feed.url}/v2\n    websocket: true\n`,
  );

  const chatClient = await connect(t, `${wsUrl}/chat/room`);
  const feedClient = await connect(t, `${wsUrl}/feed/prices`);
  chatClient.send('a');
  feedClient.send('b');

  assert.equal((await nextMessage(chatClient)).data.toString('utf8'), 'chat:a');
  assert.equal((await nextMessage(feedClient)).data.toString('utf8'), 'feed:b');
  assert.deepEqual(
    chat.upgrades.map((upgrade) => upgrade.url),
    ['/room'],
  );
  assert.deepEqual(
    feed.upgrades.map((upgrade) => upgrade.url),
    ['/v2/prices'],
  );
});

it('websocket ws_target replaces the HTTP target', async (t) => {
  const sockets = await startWsUpstream(t);
  const { wsUrl } = await startWsGateway(
    t,
    `routes:\n  - path: /live\n    target: http://127.0.0.1:9/http-base\n    websocket: true\n    ws_target: ws://127.0.0.1:${sockets.port}/socket-base\n`,
  );

  await connect(t, `${wsUrl}/live/updates?since=5`);

  await upstreamConnections(sockets, 1);
  assert.equal(sockets.upgrades[0].url, '/socket-base/updates?since=5');
});

it('websocket follows strip_path and plain prefixes', async (t) => {
  const upstream = await startWsUpstream(t);
  const { wsUrl } = await startWsGateway(
    t,
    `routes:\n  - path: /keep\n    target: ${upstream.url}\n    websocket: true\n    strip_path: false\n  - path: /stream*\n    target: ${upstream.url}/s\n    websocket: true\n`,
  );

  await connect(t, `${wsUrl}/keep/a`);
  await connect(t, `${wsUrl}/stream2024`);

  await upstreamConnections(upstream, 2);
  assert.deepEqual(
    upstream.upgrades.map((upgrade) => upgrade.url),
    ['/keep/a', '/s/2024'],
  );
});

it('websocket stats count open and total connections', async (t) => {
  const upstream = await startWsUpstream(t);
  const { url, wsUrl } = await startWsGateway(
    t,
    `routes:\n  - path: /ws\n    target: ${upstream.url}\n    websocket: true\n`,
  );
  const readStats = async () => {
    const response = await rawRequest(url, { path: '/stats' });
    return JSON.parse(response.body) as {
      websockets_open: number;
      websockets_total: number;
      routes: Record<string, { websockets_open: number; websockets_total: number }>;
    };
  };

  const initial = await readStats();
  assert.equal(initial.routes['/ws'].websockets_open, 0);
  assert.equal(initial.routes['/ws'].websockets_total, 0);

  const first = await connect(t, `${wsUrl}/ws`);
  await connect(t, `${wsUrl}/ws`);
  const open = await readStats();
  assert.equal(open.routes['/ws'].websockets_open, 2);
  assert.equal(open.routes['/ws'].websockets_total, 2);
  assert.equal(open.websockets_open, 2);

  const firstClosed = closed(first);
  first.close(1000);
  await firstClosed;
  await new Promise((resolve) => setTimeout(resolve, 50));
  const after = await readStats();
  assert.equal(after.routes['/ws'].websockets_open, 1);
  assert.equal(after.routes['/ws'].websockets_total, 2);
});

it('websocket keys require websocket: true', async () => {
  const error = await loadTestConfig(
    'routes:\n  - path: /ws\n    target: http://127.0.0.1:9\n    ws_target: ws://127.0.0.1:10\n    ws_idle_timeout: 30s\n',
  ).then(
    () => undefined,
    (caught: unknown) => caught,
  );

  assert.ok(error instanceof ConfigError, String(error));
  const text = error.message;
  assert.match(
    text,
    /routes\[0\]\.ws_target: ws_target applies only to a route with websocket: true/,
  );
  assert.match(text, /routes\[0\]\.ws_idle_timeout: ws_idle_timeout applies only/);
});

it('websocket keys are validated', async () => {
  const error = await loadTestConfig(
    'routes:\n  - path: /ws\n    target: http://127.0.0.1:9\n    websocket: true\n    ws_target: ftp://example\n    ws_max_connections: 0\n',
  ).then(
    () => undefined,
    (caught: unknown) => caught,
  );

  assert.ok(error instanceof ConfigError, String(error));
  assert.match(error.message, /ws_target/);
  assert.match(error.message, /ws_max_connections/);
});

it('websocket message size of zero is rejected', async () => {
  const error = await loadTestConfig(
    'routes:\n  - path: /ws\n    target: http://127.0.0.1:9\n    websocket: true\n    ws_max_message_size: 0\n',
  ).then(
    () => undefined,
    (caught: unknown) => caught,
  );

  assert.ok(error instanceof ConfigError, String(error));
  assert.match(error.message, /ws_max_message_size must be at least 1 byte/);
});
