import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { it } from 'node:test';
import { startUpstream } from './helpers.js';
import {
  closed,
  connect,
  expectRejection,
  nextMessage,
  startWsGateway,
  startWsUpstream,
  upstreamConnections,
} from './websocket-helpers.js';

function wsRoute(upstreamUrl: string, extra = ''): string {
  return `routes:\n  - path: /ws\n    target: ${upstreamUrl}\n    websocket: true\n${extra}`;
}

it('websocket passes the upstream close code to the client', async (t) => {
  const upstream = await startWsUpstream(t, (socket) => {
    socket.on('message', () => socket.close(4001, 'upstream done'));
  });
  const { wsUrl } = await startWsGateway(t, wsRoute(upstream.url));
  const client = await connect(t, `${wsUrl}/ws`);
  const clientClosed = closed(client);

  client.send('close please');

  assert.deepEqual(await clientClosed, { code: 4001, reason: 'upstream done' });
});

it('websocket passes the client close code to the upstream', async (t) => {
  const upstream = await startWsUpstream(t);
  const { wsUrl } = await startWsGateway(t, wsRoute(upstream.url));
  const client = await connect(t, `${wsUrl}/ws`);
  await upstreamConnections(upstream, 1);
  const upstreamClosed = closed(upstream.sockets[0]);

  client.close(4002, 'client done');

  assert.deepEqual(await upstreamClosed, { code: 4002, reason: 'client done' });
});

it('websocket passes a close without code as such', async (t) => {
  const upstream = await startWsUpstream(t);
  const { wsUrl } = await startWsGateway(t, wsRoute(upstream.url));
  const client = await connect(t, `${wsUrl}/ws`);
  await upstreamConnections(upstream, 1);
  const upstreamClosed = closed(upstream.sockets[0]);

  client.close();

  assert.equal((await upstreamClosed).code, 1005);
});

it('websocket closes the client with 1014 when the upstream drops', async (t) => {
  const upstream = await startWsUpstream(t);
  const { wsUrl } = await startWsGateway(t, wsRoute(upstream.url));
  const client = await connect(t, `${wsUrl}/ws`);
  await upstreamConnections(upstream, 1);
  const clientClosed = closed(client);

  upstream.sockets[0].terminate();

  assert.deepEqual(await clientClosed, { code: 1014, reason: 'upstream connection failed' });
});

it('websocket closes the upstream with 1001 when the client drops', async (t) => {
  const upstream = await startWsUpstream(t);
  const { wsUrl } = await startWsGateway(t, wsRoute(upstream.url));
  const client = await connect(t, `${wsUrl}/ws`);
  await upstreamConnections(upstream, 1);
  const upstreamClosed = closed(upstream.sockets[0]);

  client.terminate();

  assert.deepEqual(await upstreamClosed, { code: 1001, reason: 'client connection failed' });
});

it('websocket gets 502 from a refusing upstream', async (t) => {
  const unused = createServer();
  await new Promise<void>((resolve) => unused.listen(0, '127.0.0.1', resolve));
  const { port } = unused.address() as AddressInfo;
  await new Promise<void>((resolve) => unused.close(() => resolve()));
  const { wsUrl } = await startWsGateway(t, wsRoute(`http://127.0.0.1:${port}`));

  const rejection = await expectRejection(`${wsUrl}/ws`);

  assert.equal(rejection.status, 502);
  assert.equal(rejection.body.code, 'PACTOWN_ERR_UPSTREAM_UNAVAILABLE');
  assert.equal(rejection.body.route, '/ws');
  assert.match(String(rejection.body.error), /ECONNREFUSED/);
});

it('websocket relays an upstream that answers without upgrading', async (t) => {
  const upstream = await startUpstream((_request, response) => {
    response.writeHead(403, { 'content-type': 'application/json', 'x-upstream': 'yes' });
    response.end('{"reason":"not this room"}');
  });
  t.after(() => upstream.close());
  const { wsUrl } = await startWsGateway(t, wsRoute(upstream.url));

  const rejection = await expectRejection(`${wsUrl}/ws/room`);

  assert.equal(rejection.status, 403);
  assert.equal(rejection.headers['x-upstream'], 'yes');
  assert.deepEqual(rejection.body, { reason: 'not this room' });
});

it('websocket gets 504 on handshake timeout', async (t) => {
  const silent = createServer();
  silent.on('upgrade', () => {});
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  t.after(() => {
    silent.closeAllConnections();
    silent.close();
  });
  const { port } = silent.address() as AddressInfo;
  const { wsUrl } = await startWsGateway(
    t,
    wsRoute(`http://127.0.0.1:${port}`, '    timeout: 300ms\n'),
  );

  const rejection = await expectRejection(`${wsUrl}/ws`);

  assert.equal(rejection.status, 504);
  assert.equal(rejection.body.code, 'PACTOWN_ERR_UPSTREAM_TIMEOUT');
});

it('websocket closes idle connections with 1001', async (t) => {
  const upstream = await startWsUpstream(t);
  const { wsUrl } = await startWsGateway(t, wsRoute(upstream.url, '    ws_idle_timeout: 400ms\n'));
  const client = await connect(t, `${wsUrl}/ws`);
  await upstreamConnections(upstream, 1);
  const clientClosed = closed(client);
  const upstreamClosed = closed(upstream.sockets[0]);

  // Traffic every 150 ms keeps the connection open past the timeout.
  const started = Date.now();
  for (let round = 0; round < 4; round += 1) {
    await new Promise((resolve) => setTimeout(resolve, 150));
    client.send(`round ${round}`);
    assert.equal((await nextMessage(client)).data.toString('utf8'), `round ${round}`);
  }
  assert.ok(Date.now() - started >= 600);

  assert.deepEqual(await clientClosed, { code: 1001, reason: 'idle timeout' });
  assert.deepEqual(await upstreamClosed, { code: 1001, reason: 'idle timeout' });
});
