import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type TestContext, test } from 'node:test';
import { stripeRequest, waitFor } from './delivery-helpers.js';
import { startGatewayFor, startUpstream, type TestUpstream } from './helpers.js';

const SECRET = 'whsec_delivery_gateway_test_secret';
const ADMIN_TOKEN = 'admin-token-for-tests-0123456789';

function gatewayYaml(target: TestUpstream, extra = ''): string {
  const dir = mkdtempSync(join(tmpdir(), 'pactown-queue-'));
  return `
storage:
  path: ${dir}
queue:
  poll_interval: 20ms
  retry_jitter: 0
${extra}
routes:
  - path: /webhooks/stripe
    provider: stripe
    secret: ${SECRET}
    delivery: queue
    target: ${target.url}/events
    retry_schedule: [50ms, 50ms]
`;
}

async function send(url: string, id: string) {
  const { body, headers } = stripeRequest(id, SECRET);
  return fetch(`${url}/webhooks/stripe`, { method: 'POST', body, headers });
}

async function admin(t: TestContext, url: string, path: string, init: RequestInit = {}) {
  const response = await fetch(`${url}${path}`, {
    ...init,
    headers: {
      authorization: `Bearer ${ADMIN_TOKEN}`,
      'content-type': 'application/json',
      ...init.headers,
    },
  });
  t.diagnostic(`${init.method ?? 'GET'} ${path} -> ${response.status}`);
  // biome-ignore lint/suspicious/noExplicitAny: the tests read many shapes of admin responses.
  return { status: response.status, body: (await response.json()) as Record<string, any> };
}

test('queue route answers 202 and delivers', async (t) => {
  const target = await startUpstream();
  t.after(() => target.close());
  const { url } = await startGatewayFor(t, gatewayYaml(target));
  const response = await send(url, 'evt_queue_1');
  assert.equal(response.status, 202);
  const body = (await response.json()) as { status: string; delivery_id: string };
  assert.equal(body.status, 'queued');
  assert.match(body.delivery_id, /^dlv_/);
  await waitFor(() => target.requests.length === 1, 5_000, 'the delivery');
  const [request] = target.requests;
  assert.equal(request.url, '/events');
  assert.equal(request.headers['x-pactown-delivery-id'], body.delivery_id);
  assert.equal(JSON.parse(request.body.toString()).id, 'evt_queue_1');
  assert.ok(request.headers['stripe-signature'], 'the original headers are kept');

  const again = await send(url, 'evt_queue_1');
  assert.equal(again.status, 200);
  assert.deepEqual(await again.json(), { status: 'duplicate', delivery_id: body.delivery_id });
  const unsigned = await fetch(`${url}/webhooks/stripe`, { method: 'POST', body: '{}' });
  assert.equal(unsigned.status, 401, 'unverified events are not queued');
  await new Promise((resolve) => setTimeout(resolve, 100));
  assert.equal(target.requests.length, 1);
});

test('admin api lists, shows and replays', async (t) => {
  let failing = true;
  const target = await startUpstream((_request, response) => {
    response.writeHead(failing ? 500 : 200);
    response.end(failing ? 'broken' : 'ok');
  });
  t.after(() => target.close());
  const yaml = gatewayYaml(target, `admin:\n  token: ${ADMIN_TOKEN}\n`);
  const { url } = await startGatewayFor(t, yaml);
  const ids: string[] = [];
  for (const event of ['evt_admin_1', 'evt_admin_2']) {
    const response = await send(url, event);
    ids.push(((await response.json()) as { delivery_id: string }).delivery_id);
  }
  await waitFor(() => target.requests.length === 6, 5_000, 'three attempts of each delivery');

  await waitFor(
    async () =>
      (await admin(t, url, '/admin/deliveries?status=dead')).body.deliveries?.length === 2,
    5_000,
    'two dead letters',
  );
  const list = await admin(t, url, '/admin/deliveries?status=dead&provider=stripe&limit=1');
  assert.equal(list.status, 200);
  assert.equal(list.body.deliveries.length, 1);
  assert.equal(list.body.deliveries[0].id, ids[1], 'newest first');
  assert.ok(list.body.next_cursor);
  const next = await admin(
    t,
    url,
    `/admin/deliveries?status=dead&limit=1&cursor=${list.body.next_cursor}`,
  );
  assert.equal(next.body.deliveries[0].id, ids[0]);
  const empty = await admin(t, url, '/admin/deliveries?until=2000-01-01T00:00:00Z');
  assert.equal(empty.body.deliveries.length, 0);

  const shown = await admin(t, url, `/admin/deliveries/${ids[0]}`);
  assert.equal(shown.status, 200);
  assert.equal(shown.body.status, 'dead');
  assert.equal(shown.body.attempt_log.length, 3);
  assert.equal(shown.body.attempt_log[0].status, 500);
  assert.equal(shown.body.attempt_log[0].response_excerpt, 'broken');
  assert.equal(JSON.parse(shown.body.body).id, 'evt_admin_1');

  failing = false;
  const replayed = await admin(t, url, `/admin/deliveries/${ids[0]}/replay`, { method: 'POST' });
  assert.equal(replayed.status, 202);
  await waitFor(
    async () => (await admin(t, url, `/admin/deliveries/${ids[0]}`)).body.status === 'delivered',
    5_000,
    'the replayed delivery',
  );
  const byFilter = await admin(t, url, '/admin/deliveries/replay', {
    method: 'POST',
    body: JSON.stringify({ status: 'dead' }),
  });
  assert.equal(byFilter.status, 202);
  assert.equal(byFilter.body.replayed, 1);
  await waitFor(
    async () => (await admin(t, url, `/admin/deliveries/${ids[1]}`)).body.status === 'delivered',
    5_000,
    'the delivery replayed by filter',
  );

  const missing = await admin(t, url, '/admin/deliveries/dlv_missing');
  assert.equal(missing.status, 404);
  assert.equal(missing.body.code, 'PACTOWN_ERR_DELIVERY_NOT_FOUND');
  const badFilter = await admin(t, url, '/admin/deliveries?status=lost');
  assert.equal(badFilter.status, 400);
  assert.equal(badFilter.body.code, 'PACTOWN_ERR_ADMIN_INVALID_FILTER');
  for (const cursor of ['garbage', '-1', '1.5', '9'.repeat(20)]) {
    const badCursor = await admin(t, url, `/admin/deliveries?cursor=${cursor}`);
    assert.equal(badCursor.status, 400, `cursor ${cursor}`);
    assert.match(badCursor.body.error, /cursor .* is invalid/);
  }
  const misspelt = await admin(t, url, '/admin/deliveries?stauts=dead');
  assert.equal(misspelt.status, 400, 'an unknown parameter is rejected');
  assert.match(misspelt.body.error, /unknown parameter "stauts"/);
  for (const body of ['{"stauts":"dead"}', '{"status":"dead","cursor":"2"}']) {
    const badBody = await admin(t, url, '/admin/deliveries/replay', { method: 'POST', body });
    assert.equal(badBody.status, 400, body);
    assert.match(badBody.body.error, /unknown parameter/, body);
  }
  const noFilter = await admin(t, url, '/admin/deliveries/replay', { method: 'POST', body: '{}' });
  assert.equal(noFilter.status, 400, 'replay by filter needs a filter');
});

test('admin api needs the bearer token', async (t) => {
  const target = await startUpstream();
  t.after(() => target.close());
  const { url } = await startGatewayFor(
    t,
    gatewayYaml(target, `admin:\n  token: ${ADMIN_TOKEN}\n`),
  );
  const none = await fetch(`${url}/admin/deliveries`);
  assert.equal(none.status, 401);
  assert.equal(none.headers.get('www-authenticate'), 'Bearer realm="pactown-admin"');
  const body = (await none.json()) as { code: string; route: string };
  assert.equal(body.code, 'PACTOWN_ERR_ADMIN_UNAUTHORIZED');
  assert.equal(body.route, '/admin');
  const wrong = await fetch(`${url}/admin/deliveries`, {
    headers: { authorization: `Bearer ${ADMIN_TOKEN}x` },
  });
  assert.equal(wrong.status, 401);
  const replay = await fetch(`${url}/admin/deliveries/replay`, { method: 'POST' });
  assert.equal(replay.status, 401);
});

test('admin api absent without a token', async (t) => {
  const target = await startUpstream();
  t.after(() => target.close());
  const { url } = await startGatewayFor(t, gatewayYaml(target));
  const response = await fetch(`${url}/admin/deliveries`, {
    headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
  });
  assert.equal(response.status, 404);
  assert.equal(((await response.json()) as { code: string }).code, 'PACTOWN_ERR_ROUTE_NOT_FOUND');
});

test('admin token shorter than 16 is invalid', async (t) => {
  const target = await startUpstream();
  t.after(() => target.close());
  await assert.rejects(
    startGatewayFor(t, gatewayYaml(target, 'admin:\n  token: short\n')),
    /admin\.token/,
  );
});

test('ordered queue route keys validate', async (t) => {
  const target = await startUpstream();
  t.after(() => target.close());
  const yaml = gatewayYaml(target).replace('retry_schedule: [50ms, 50ms]', 'order: sometimes');
  await assert.rejects(startGatewayFor(t, yaml), /order/);
  const sync = gatewayYaml(target).replace('delivery: queue', 'delivery: sync');
  await assert.rejects(
    startGatewayFor(t, sync),
    /retry_schedule/,
    'queue keys need delivery: queue',
  );
});
