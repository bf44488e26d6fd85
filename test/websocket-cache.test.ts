import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { it } from 'node:test';
import { WebSocketServer } from 'ws';
import { rawRequest } from './helpers.js';
import { connect, nextMessage, startWsGateway } from './websocket-helpers.js';

it('websocket upgrade bypasses the response cache', async (t) => {
  // One upstream that serves a cacheable GET and WebSocket upgrades on the same path.
  const server = createServer((_request, response) => {
    response.writeHead(200, {
      'content-type': 'text/plain',
      'cache-control': 'public, max-age=60',
    });
    response.end('plain page');
  });
  const sockets = new WebSocketServer({ server });
  sockets.on('connection', (socket) => {
    socket.on('message', (data) => socket.send(`upstream got ${data}`));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(
    () =>
      new Promise<void>((resolve) => {
        for (const client of sockets.clients) {
          client.terminate();
        }
        sockets.close();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  const target = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const { url, wsUrl } = await startWsGateway(
    t,
    `routes:\n  - path: /live\n    target: ${target}\n    websocket: true\n    cache: 60s\n`,
  );

  const first = await rawRequest(url, { path: '/live' });
  const second = await rawRequest(url, { path: '/live' });
  assert.equal(first.body, 'plain page');
  assert.equal(second.headers['x-cache'], 'HIT');

  const socket = await connect(t, `${wsUrl}/live`);
  const reply = nextMessage(socket);
  socket.send('hello');
  assert.equal((await reply).data.toString(), 'upstream got hello');
});
