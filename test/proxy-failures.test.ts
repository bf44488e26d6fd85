import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { createServer, type Server } from 'node:net';
import { describe, it, type TestContext } from 'node:test';
import {
  rawRequest,
  spawnGateway,
  startGatewayFor,
  startUpstream,
  writeConfig,
} from './helpers.js';

/** A TCP server that resets the first `resets` connections, then responds with HTTP 200. */
async function startFlakyServer(t: TestContext, resets: number) {
  let connections = 0;
  const seen: string[] = [];
  const server: Server = createServer((socket) => {
    connections++;
    socket.once('data', (data) => {
      seen.push(data.toString('latin1').split('\r\n')[0]);
      if (connections <= resets) {
        socket.resetAndDestroy();
        return;
      }
      socket.end(
        'HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok',
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen };
}

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('upstream failures', () => {
  it('answers 504 when the upstream is too slow', async (t) => {
    const slow = await startUpstream(async (_request, response) => {
      await new Promise((resolve) => setTimeout(resolve, 1500));
      response.end('late');
    });
    t.after(() => slow.close());
    const { url } = await startGatewayFor(
      t,
      `routes:\n  - path: /slow\n    target: ${slow.url}\n    timeout: 200ms\n    retries: 0\n`,
    );
    const response = await rawRequest(url, { path: '/slow/x' });
    assert.equal(response.status, 504);
    const body = JSON.parse(response.body);
    assert.equal(body.code, 'PACTOWN_ERR_UPSTREAM_TIMEOUT');
    assert.equal(body.route, '/slow');
    assert.equal(typeof body.error, 'string');
  });

  it('answers 502 when the upstream is unreachable', async (t) => {
    const port = await closedPort();
    const { url } = await startGatewayFor(
      t,
      `routes:\n  - path: /dead\n    target: http://127.0.0.1:${port}\n    retries: 1\n`,
    );
    const response = await rawRequest(url, { path: '/dead' });
    assert.equal(response.status, 502);
    const body = JSON.parse(response.body);
    assert.equal(body.code, 'PACTOWN_ERR_UPSTREAM_UNAVAILABLE');
    assert.equal(body.route, '/dead');
    assert.match(body.error, /ECONNREFUSED/);
  });

  it('retries a GET after a connection reset', async (t) => {
    const flaky = await startFlakyServer(t, 2);
    const { url } = await startGatewayFor(
      t,
      `routes:\n  - path: /flaky\n    target: ${flaky.url}\n    retries: 3\n`,
    );
    const response = await rawRequest(url, { path: '/flaky/item' });
    assert.equal(response.status, 200);
    assert.equal(response.body, 'ok');
    assert.equal(flaky.seen.length, 3);
    assert.ok(flaky.seen.every((line) => line.startsWith('GET /item')));
  });

  it('never sends a POST twice', async (t) => {
    const flaky = await startFlakyServer(t, 1);
    const { url } = await startGatewayFor(
      t,
      `routes:\n  - path: /flaky\n    target: ${flaky.url}\n    retries: 3\n`,
    );
    const response = await rawRequest(url, {
      method: 'POST',
      path: '/flaky/charge',
      headers: { 'content-type': 'application/json' },
      body: '{"amount":100}',
    });
    assert.equal(response.status, 502);
    assert.equal(flaky.seen.length, 1);
  });

  it('retries a POST that carries an Idempotency-Key', async (t) => {
    const flaky = await startFlakyServer(t, 1);
    const { url } = await startGatewayFor(
      t,
      `routes:\n  - path: /flaky\n    target: ${flaky.url}\n    retries: 2\n`,
    );
    const response = await rawRequest(url, {
      method: 'POST',
      path: '/flaky/charge',
      headers: { 'idempotency-key': 'order-17' },
    });
    assert.equal(response.status, 200);
    assert.equal(flaky.seen.length, 2);
  });

  it('stops retrying after the configured count', async (t) => {
    const flaky = await startFlakyServer(t, 10);
    const config = writeConfig(
      `routes:\n  - path: /flaky\n    target: ${flaky.url}\n    retries: 2\n`,
    );
    const { url, logs } = await spawnGateway(t, config);
    const response = await rawRequest(url, { path: '/flaky' });
    assert.equal(response.status, 502);
    assert.equal(flaky.seen.length, 3);
    // One log line for the failed request, counting its three attempts.
    const failures = () => logs.filter((line) => line.msg === 'upstream request failed');
    for (let waited = 0; failures().length === 0 && waited < 5000; waited += 50) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    assert.equal(failures().length, 1, JSON.stringify(logs));
    assert.equal(failures()[0].attempts, 3);
  });

  it('keeps serving after upstream failures', async (t) => {
    const port = await closedPort();
    const healthy = await startUpstream();
    t.after(() => healthy.close());
    const { url } = await startGatewayFor(
      t,
      `routes:\n  - path: /dead\n    target: http://127.0.0.1:${port}\n    retries: 0\n  - path: /ok\n    target: ${healthy.url}\n`,
    );
    for (let index = 0; index < 5; index++) {
      assert.equal((await rawRequest(url, { path: '/dead' })).status, 502);
    }
    assert.equal((await rawRequest(url, { path: '/ok' })).status, 200);
    const stats = JSON.parse((await rawRequest(url, { path: '/stats' })).body);
    assert.equal(stats.routes['/dead'].errors, 5);
    assert.equal(stats.errors, 5);
  });
});
