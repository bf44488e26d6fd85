import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { startGatewayFor, startUpstream } from './helpers.js';
import { githubSignature, send, stripeSignature } from './webhooks-support.js';

const SECRET = 'whsec_delivery_test';
const GITHUB_SECRET = 'github-delivery-secret';

function stripeEvent(id: string): string {
  return JSON.stringify({ id, type: 'invoice.paid', object: 'event' });
}

function stripeRoute(target: string, extra = ''): string {
  return `
routes:
  - provider: stripe
    secret: ${SECRET}
    target: ${target}
${extra}`;
}

async function postStripe(url: string, payload: string, headers: Record<string, string> = {}) {
  return send(`${url}/webhooks/stripe`, {
    body: payload,
    headers: {
      'content-type': 'application/json',
      'stripe-signature': stripeSignature(payload, SECRET),
      ...headers,
    },
  });
}

describe('sync delivery', () => {
  test('forwards the verified bytes with the provider headers', async (t) => {
    const upstream = await startUpstream();
    t.after(() => upstream.close());
    const { url } = await startGatewayFor(t, stripeRoute(`${upstream.url}/events?from=gw`));
    const payload = stripeEvent('evt_forward');
    const response = await postStripe(url, payload, { 'x-request-source': 'stripe-test' });
    assert.equal(response.status, 200);
    assert.equal(upstream.requests.length, 1);
    const [forwarded] = upstream.requests;
    assert.equal(forwarded.method, 'POST');
    assert.equal(forwarded.url, '/events?from=gw');
    assert.deepEqual(forwarded.body, Buffer.from(payload));
    assert.equal(forwarded.headers['x-pactown-provider'], 'stripe');
    assert.equal(forwarded.headers['x-pactown-event-id'], 'evt_forward');
    assert.equal(forwarded.headers['x-pactown-event-type'], 'invoice.paid');
    assert.equal(forwarded.headers['x-request-source'], 'stripe-test');
    assert.equal(forwarded.headers['content-type'], 'application/json');
    assert.ok(forwarded.headers['stripe-signature'], 'the original signature header is kept');
  });

  test('encodes event ids that no header may carry', async (t) => {
    const upstream = await startUpstream();
    t.after(() => upstream.close());
    const { url } = await startGatewayFor(t, stripeRoute(upstream.url));
    for (const id of ['evt_\u{1F600}', 'evt_line\r\nx-injected: yes', 'evt_\u00e9']) {
      const payload = JSON.stringify({ id, type: 'invoice.\u00fc', object: 'event' });
      const response = await postStripe(url, payload);
      assert.equal(response.status, 200, JSON.stringify(id));
      const forwarded = upstream.requests.at(-1)!;
      assert.equal(forwarded.headers['x-pactown-event-id'], encodeURIComponent(id));
      assert.equal(forwarded.headers['x-pactown-event-type'], 'invoice.%C3%BC');
      assert.equal(forwarded.headers['x-injected'], undefined);
    }
  });

  test('answers with the target status and body', async (t) => {
    const upstream = await startUpstream((_request, response) => {
      response.writeHead(201, { 'content-type': 'text/plain' });
      response.end('created');
    });
    t.after(() => upstream.close());
    const { url } = await startGatewayFor(t, stripeRoute(upstream.url));
    const response = await postStripe(url, stripeEvent('evt_status'));
    assert.equal(response.status, 201);
    assert.equal(response.text, 'created');
    assert.match(String(response.headers['content-type']), /^text\/plain/);
  });

  test('drops x-pactown headers that the sender set', async (t) => {
    const upstream = await startUpstream();
    t.after(() => upstream.close());
    const { url } = await startGatewayFor(
      t,
      `routes:\n  - provider: github\n    secret: ${GITHUB_SECRET}\n    target: ${upstream.url}\n`,
    );
    const payload = '{"zen":"spoof"}';
    const response = await send(`${url}/webhooks/github`, {
      body: payload,
      headers: {
        'content-type': 'application/json',
        'x-hub-signature-256': await githubSignature(GITHUB_SECRET, payload),
        'x-github-event': 'push',
        'x-pactown-provider': 'stripe',
        'x-pactown-event-id': 'forged',
      },
    });
    assert.equal(response.status, 200);
    const [forwarded] = upstream.requests;
    assert.equal(forwarded.headers['x-pactown-provider'], 'github');
    assert.equal(forwarded.headers['x-pactown-event-id'], undefined);
    assert.equal(forwarded.headers['x-pactown-event-type'], 'push');
  });

  test('answers a redelivered event as a duplicate without forwarding', async (t) => {
    const upstream = await startUpstream();
    t.after(() => upstream.close());
    const { url, gateway } = await startGatewayFor(t, stripeRoute(upstream.url));
    const payload = stripeEvent('evt_dup');
    const first = await postStripe(url, payload);
    const second = await postStripe(url, payload);
    assert.equal(first.status, 200);
    assert.equal(second.status, 200);
    assert.deepEqual(second.json, { status: 'duplicate' });
    assert.equal(upstream.requests.length, 1);
    const other = await postStripe(url, stripeEvent('evt_other'));
    assert.equal(other.status, 200);
    assert.equal(upstream.requests.length, 2);
    const stats = (await gateway.app.inject({ url: '/stats' })).json();
    assert.equal(stats.webhooks_received, 3);
    assert.equal(stats.routes['/webhooks/stripe'].webhooks, 3);
  });

  test('delivers the retry after the target failed', async (t) => {
    let failures = 1;
    const upstream = await startUpstream((_request, response) => {
      const status = failures-- > 0 ? 503 : 200;
      response.writeHead(status, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ status }));
    });
    t.after(() => upstream.close());
    const { url } = await startGatewayFor(t, stripeRoute(upstream.url));
    const payload = stripeEvent('evt_retry');
    const failed = await postStripe(url, payload);
    assert.equal(failed.status, 503);
    const retried = await postStripe(url, payload);
    assert.equal(retried.status, 200);
    assert.deepEqual(retried.json, { status: 200 });
    assert.equal(upstream.requests.length, 2);
    const again = await postStripe(url, payload);
    assert.deepEqual(again.json, { status: 'duplicate' });
  });

  test('answers 502 when the target is down and delivers the retry', async (t) => {
    const upstream = await startUpstream();
    const target = upstream.url;
    await upstream.close();
    const { url } = await startGatewayFor(t, stripeRoute(target));
    const payload = stripeEvent('evt_down');
    const failed = await postStripe(url, payload);
    assert.equal(failed.status, 502);
    assert.equal(failed.json.code, 'PACTOWN_ERR_UPSTREAM_UNAVAILABLE');
    assert.equal(failed.json.route, '/webhooks/stripe');
    const again = await postStripe(url, payload);
    assert.equal(again.status, 502, 'the failed event was not recorded as delivered');
  });

  test('answers 504 when the target is too slow', async (t) => {
    const upstream = await startUpstream(() => {
      // Never responds, so the gateway's timeout ends the request.
    });
    t.after(() => upstream.close());
    const { url } = await startGatewayFor(t, stripeRoute(upstream.url, '    timeout: 300ms\n'));
    const response = await postStripe(url, stripeEvent('evt_slow'));
    assert.equal(response.status, 504);
    assert.equal(response.json.code, 'PACTOWN_ERR_UPSTREAM_TIMEOUT');
  });

  test('accepts events on a route without a target', async (t) => {
    const { url } = await startGatewayFor(
      t,
      `routes:\n  - provider: stripe\n    secret: ${SECRET}\n`,
    );
    const response = await postStripe(url, stripeEvent('evt_accept'));
    assert.equal(response.status, 200);
    assert.deepEqual(response.json, { status: 'accepted', provider: 'stripe' });
  });

  test('remembers event ids only for the dedupe window', async (t) => {
    const upstream = await startUpstream();
    t.after(() => upstream.close());
    const { url } = await startGatewayFor(
      t,
      stripeRoute(upstream.url, '    dedupe_window: 200ms\n'),
    );
    const payload = stripeEvent('evt_window');
    assert.equal((await postStripe(url, payload)).status, 200);
    assert.deepEqual((await postStripe(url, payload)).json, { status: 'duplicate' });
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal((await postStripe(url, payload)).status, 200);
    assert.equal(upstream.requests.length, 2);
  });

  test('keeps de-duplication separate per route', async (t) => {
    const upstream = await startUpstream();
    t.after(() => upstream.close());
    const { url } = await startGatewayFor(
      t,
      `
routes:
  - provider: stripe
    secret: ${SECRET}
    target: ${upstream.url}
  - provider: stripe
    path: /webhooks/stripe-connect
    secret: ${SECRET}
    target: ${upstream.url}
`,
    );
    const payload = stripeEvent('evt_shared');
    const headers = {
      'content-type': 'application/json',
      'stripe-signature': stripeSignature(payload, SECRET),
    };
    const first = await send(`${url}/webhooks/stripe`, { body: payload, headers });
    const second = await send(`${url}/webhooks/stripe-connect`, { body: payload, headers });
    assert.equal(first.status, 200);
    assert.equal(second.status, 200);
    assert.equal(upstream.requests.length, 2);
  });
});
