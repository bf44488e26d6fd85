import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { it, type TestContext } from 'node:test';
import { WebSocketServer } from 'ws';
import {
  connect,
  echo,
  expectRejection,
  nextMessage,
  startWsGateway,
} from './websocket-helpers.js';

// A self-signed certificate for IP 127.0.0.1 (P-256, valid until 2126), made for these tests only
// with: openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 36500
//   -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1
const CERTIFICATE = [
  '-----BEGIN CERTIFICATE-----',
  'MIIBkTCCATagAwIBAgIUA4alkU3v5IP9qA27FUrC9LLvnc0wCgYIKoZIzj0EAwIw',
  'FDESMBAGA1UEAwwJMTI3LjAuMC4xMCAXDTI2MTIwNDE1MzEzOVoYDzIxMjYxMTEw',
  'MTUzMTM5WjAUMRIwEAYDVQQDDAkxMjcuMC4wLjEwWTATBgcqhkjOPQIBBggqhkjO',
  'PQMBBwNCAAT2Ri0qFkD9CbG6NRgnSGOWjbZ/1efpC0TxM10cZyNQf30h86TuG0SJ',
  'P02A3BsnlZztvJBCF2g64uQeBDVGqFt8o2QwYjAdBgNVHQ4EFgQUzjD23Y8vnYB2',
  'q+cviGyvnFJdRlcwHwYDVR0jBBgwFoAUzjD23Y8vnYB2q+cviGyvnFJdRlcwDwYD',
  'VR0TAQH/BAUwAwEB/zAPBgNVHREECDAGhwR/AAABMAoGCCqGSM49BAMCA0kAMEYC',
  'IQCStqmJatrh8u4DGqw9K0EIQt6aGEgDINe61YYDEyc0zAIhAOw3uJKr/tNdW2rS',
  'Qiw3UhDXGUdQP+311iMl5WxtTU5k',
  '-----END CERTIFICATE-----',
].join('\n');
const PRIVATE_KEY = [
  '-----BEGIN PRIVATE KEY-----',
  'MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg+R6oSEz+Rmw282TS',
  'TYvE4ssEbvZC2L4Swnqi25W4c/ehRANCAAT2Ri0qFkD9CbG6NRgnSGOWjbZ/1efp',
  'C0TxM10cZyNQf30h86TuG0SJP02A3BsnlZztvJBCF2g64uQeBDVGqFt8',
  '-----END PRIVATE KEY-----',
].join('\n');

/** Starts an echoing wss:// upstream on 127.0.0.1 with the test certificate. */
async function startTlsUpstream(t: TestContext): Promise<number> {
  const server = createServer({ cert: CERTIFICATE, key: PRIVATE_KEY });
  const sockets = new WebSocketServer({ server });
  sockets.on('connection', echo);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(
    () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets.clients) {
          socket.terminate();
        }
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  return (server.address() as AddressInfo).port;
}

it('websocket wss upstream verifies with tls.ca', async (t) => {
  const port = await startTlsUpstream(t);
  const caFile = join(mkdtempSync(join(tmpdir(), 'pactown-ws-tls-')), 'ca.pem');
  writeFileSync(caFile, CERTIFICATE);
  const { wsUrl } = await startWsGateway(
    t,
    `routes:\n  - path: /ws\n    target: https://127.0.0.1:${port}\n    websocket: true\n    tls:\n      ca: ${caFile}\n`,
  );

  const client = await connect(t, `${wsUrl}/ws`);
  client.send('over tls');

  assert.equal((await nextMessage(client)).data.toString('utf8'), 'over tls');
});

it('websocket wss upstream rejects an unknown certificate', async (t) => {
  const port = await startTlsUpstream(t);
  const { wsUrl } = await startWsGateway(
    t,
    `routes:\n  - path: /ws\n    target: http://127.0.0.1:9\n    websocket: true\n    ws_target: wss://127.0.0.1:${port}\n`,
  );

  const rejection = await expectRejection(`${wsUrl}/ws`);

  assert.equal(rejection.status, 502);
  assert.equal(rejection.body.code, 'PACTOWN_ERR_UPSTREAM_UNAVAILABLE');
  assert.match(String(rejection.body.error), /SELF_SIGNED/);
});

it('websocket wss upstream with tls.verify false', async (t) => {
  const port = await startTlsUpstream(t);
  const { wsUrl } = await startWsGateway(
    t,
    `routes:\n  - path: /ws\n    target: https://127.0.0.1:${port}\n    websocket: true\n    tls:\n      verify: false\n`,
  );

  const client = await connect(t, `${wsUrl}/ws`);
  client.send('unverified');

  assert.equal((await nextMessage(client)).data.toString('utf8'), 'unverified');
});
