import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { startGatewayFor, startUpstream } from './helpers.js';
import { send } from './webhooks-support.js';

const EVENT = JSON.stringify({
  event_ts: '2020-03-20 15:08:42 +0100',
  event: 'shipment_status_changed',
  organization_id: 1,
  payload: { shipment_id: 49, status: 'delivered' },
});
// An address inside InPost's published range, only ever written into X-Forwarded-For: the test
// sends every packet to 127.0.0.1.
const INPOST_ADDRESS = '91.216.25.7';
const TOKEN = 'shipx-url-token-1234';

function shipxConfig(target: string, extra = ''): string {
  return `
server:
  trust_proxy: [127.0.0.1/32]
routes:
  - provider: inpost
    mode: shipx
    target: ${target}
${extra}`;
}

function postFrom(url: string, address: string, body = EVENT) {
  return send(url, {
    body,
    headers: { 'content-type': 'application/json', 'x-forwarded-for': address },
  });
}

describe('inpost shipx route', () => {
  test('accepts events from the InPost range behind a trusted proxy', async (t) => {
    const upstream = await startUpstream();
    t.after(() => upstream.close());
    const { url } = await startGatewayFor(t, shipxConfig(upstream.url));
    const response = await postFrom(`${url}/webhooks/inpost`, INPOST_ADDRESS);
    assert.equal(response.status, 200, response.text);
    assert.equal(upstream.requests.length, 1);
    assert.equal(upstream.requests[0].headers['x-pactown-event-type'], 'shipment_status_changed');
    assert.match(String(upstream.requests[0].headers['x-pactown-event-id']), /^sha256:/);
  });

  test('rejects other addresses and keeps serving', async (t) => {
    const upstream = await startUpstream();
    t.after(() => upstream.close());
    const { url } = await startGatewayFor(t, shipxConfig(upstream.url));
    for (const address of ['203.0.113.7', '91.216.24.255', '127.0.0.1']) {
      const response = await postFrom(`${url}/webhooks/inpost`, address);
      assert.equal(response.status, 401, address);
      assert.equal(response.json.reason, 'source_not_allowed', address);
      assert.equal(response.json.code, 'PACTOWN_ERR_WEBHOOK_SOURCE', address);
    }
    assert.equal(upstream.requests.length, 0);
    assert.equal((await postFrom(`${url}/webhooks/inpost`, INPOST_ADDRESS)).status, 200);
  });

  test('ignores X-Forwarded-For from an untrusted peer', async (t) => {
    const { url } = await startGatewayFor(t, 'routes:\n  - provider: inpost\n    mode: shipx\n');
    const response = await postFrom(`${url}/webhooks/inpost`, INPOST_ADDRESS);
    assert.equal(response.status, 401);
    assert.equal(response.json.reason, 'source_not_allowed');
  });

  test('de-duplicates a resent status change', async (t) => {
    const upstream = await startUpstream();
    t.after(() => upstream.close());
    const { url } = await startGatewayFor(t, shipxConfig(upstream.url));
    assert.equal((await postFrom(`${url}/webhooks/inpost`, INPOST_ADDRESS)).status, 200);
    const again = await postFrom(`${url}/webhooks/inpost`, INPOST_ADDRESS);
    assert.deepEqual(again.json, { status: 'duplicate' });
    assert.equal(upstream.requests.length, 1);
  });

  test('checks the URL token in the path or the query', async (t) => {
    const upstream = await startUpstream();
    t.after(() => upstream.close());
    const { url } = await startGatewayFor(t, shipxConfig(upstream.url, `    token: ${TOKEN}\n`));
    const base = `${url}/webhooks/inpost`;
    const body = (n: number) => EVENT.replace('49', String(n));
    assert.equal((await postFrom(`${base}/${TOKEN}`, INPOST_ADDRESS, body(1))).status, 200);
    assert.equal((await postFrom(`${base}?token=${TOKEN}`, INPOST_ADDRESS, body(2))).status, 200);
    const missing = await postFrom(base, INPOST_ADDRESS, body(3));
    assert.equal(missing.status, 401);
    assert.equal(missing.json.reason, 'token_missing');
    const wrong = await postFrom(`${base}/not-the-token`, INPOST_ADDRESS, body(4));
    assert.equal(wrong.status, 401);
    assert.equal(wrong.json.reason, 'token_mismatch');
    const outside = await postFrom(`${base}/${TOKEN}`, '198.51.100.1', body(5));
    assert.equal(outside.json.reason, 'source_not_allowed');
    assert.equal(upstream.requests.length, 2);
  });

  test('answers the registration GET with 200', async (t) => {
    const { url } = await startGatewayFor(
      t,
      shipxConfig('http://127.0.0.1:9', `    token: ${TOKEN}\n`),
    );
    const probe = await send(`${url}/webhooks/inpost/${TOKEN}`, { method: 'GET' });
    assert.equal(probe.status, 200);
    assert.deepEqual(probe.json, { status: 'ok', provider: 'inpost' });
    const head = await send(`${url}/webhooks/inpost`, { method: 'HEAD' });
    assert.equal(head.status, 200);
  });

  test('answers 405 to a GET in hmac mode', async (t) => {
    const { url } = await startGatewayFor(
      t,
      'routes:\n  - provider: inpost\n    mode: hmac\n    secret: s\n',
    );
    const probe = await send(`${url}/webhooks/inpost`, { method: 'GET' });
    assert.equal(probe.status, 405);
  });

  test('serves no subpaths without a token', async (t) => {
    const { url } = await startGatewayFor(t, shipxConfig('http://127.0.0.1:9'));
    const response = await postFrom(`${url}/webhooks/inpost/extra`, INPOST_ADDRESS);
    assert.equal(response.status, 404);
  });
});
