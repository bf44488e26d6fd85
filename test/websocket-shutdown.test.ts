import assert from 'node:assert/strict';
import { it } from 'node:test';
import { rawRequest, spawnGateway, startUpstream, writeConfig } from './helpers.js';
import {
  closed,
  connect,
  startWsGateway,
  startWsUpstream,
  upstreamConnections,
  within,
} from './websocket-helpers.js';

it('shutdown closes websockets with 1001 after in-flight HTTP', async (t) => {
  let httpStarted: () => void = () => {};
  const started = new Promise<void>((resolve) => {
    httpStarted = resolve;
  });
  const httpUpstream = await startUpstream(async (_request, response) => {
    httpStarted();
    await new Promise((resolve) => setTimeout(resolve, 600));
    response.writeHead(200, { 'content-type': 'text/plain' });
    response.end('finished');
  });
  t.after(() => httpUpstream.close());
  const wsUpstream = await startWsUpstream(t);
  const { gateway, url, wsUrl } = await startWsGateway(
    t,
    `routes:\n  - path: /ws\n    target: ${wsUpstream.url}\n    websocket: true\n  - path: /slow\n    target: ${httpUpstream.url}\n`,
    { closeAtEnd: false },
  );
  const client = await connect(t, `${wsUrl}/ws`);
  await upstreamConnections(wsUpstream, 1);
  const clientClosed = closed(client).then((event) => ({ ...event, at: Date.now() }));
  const upstreamClosed = closed(wsUpstream.sockets[0]);
  const inFlight = rawRequest(url, { path: '/slow' }).then((response) => ({
    ...response,
    at: Date.now(),
  }));
  await started;

  const stopping = gateway.close();

  const response = await inFlight;
  assert.equal(response.status, 200);
  assert.equal(response.body, 'finished');
  const clientSide = await clientClosed;
  assert.equal(clientSide.code, 1001);
  assert.equal(clientSide.reason, 'gateway shutting down');
  assert.ok(clientSide.at >= response.at, 'the WebSocket closed before the HTTP response ended');
  assert.deepEqual(await upstreamClosed, { code: 1001, reason: 'gateway shutting down' });
  await within(stopping, 'the gateway to close');
});

it('shutdown on SIGTERM closes websockets with 1001', async (t) => {
  const wsUpstream = await startWsUpstream(t);
  const config = writeConfig(
    `routes:\n  - path: /ws\n    target: ${wsUpstream.url}\n    websocket: true\n`,
  );
  const gateway = await spawnGateway(t, config);
  const client = await connect(t, `${gateway.url.replace(/^http/, 'ws')}/ws`);
  await upstreamConnections(wsUpstream, 1);
  const clientClosed = closed(client);

  gateway.child.kill('SIGTERM');

  assert.deepEqual(await clientClosed, { code: 1001, reason: 'gateway shutting down' });
  assert.equal(await within(gateway.exited, 'the gateway to exit'), 0);
});
