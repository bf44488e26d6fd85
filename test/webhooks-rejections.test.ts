import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import type { OutgoingHttpHeaders } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { pino } from 'pino';
import { createGateway, type Gateway } from '../core/index.js';
import { loadTestConfig, startUpstream, type TestUpstream } from './helpers.js';
import {
  githubSignature,
  nowSeconds,
  type SentResponse,
  send,
  standardSecret,
  standardSignature,
  stripeSignature,
} from './webhooks-support.js';

const STRIPE_SECRET = 'whsec_rejections_primary';
const GITHUB_SECRET = 'github-rejections';
const STANDARD_SECRET = standardSecret('r');
const INPOST_SECRET = 'inpost-rejections';
const ALLEGRO_SECRET = 'allegro-rejections';
const PAYLOAD = JSON.stringify({ id: 'evt_reject', type: 'charge.failed' });
const JSON_TYPE = { 'content-type': 'application/json' };

describe('webhook rejections', () => {
  let upstream: TestUpstream;
  let gateway: Gateway;
  let url: string;
  const logLines: string[] = [];

  before(async () => {
    upstream = await startUpstream();
    const loaded = await loadTestConfig(`
routes:
  - provider: stripe
    secret: ${STRIPE_SECRET}
    target: ${upstream.url}
  - provider: stripe
    path: /webhooks/stripe-small
    secret: ${STRIPE_SECRET}
    body_limit: 1kb
  - provider: github
    secret: ${GITHUB_SECRET}
  - provider: standard-webhooks
    secret: ${STANDARD_SECRET}
  - provider: inpost
    mode: hmac
    secret: ${INPOST_SECRET}
  - provider: allegro
    secret: ${ALLEGRO_SECRET}
`);
    const logger = pino({ level: 'info' }, { write: (line: string) => logLines.push(line) });
    gateway = await createGateway(loaded, { logger, env: {} });
    url = await gateway.listen(0, '127.0.0.1');
  });

  after(async () => {
    await gateway.close();
    await upstream.close();
  });

  /** Sends a correctly signed Stripe event, which must still be served after any rejection. */
  async function assertStillServing(): Promise<void> {
    const payload = JSON.stringify({ id: `evt_alive_${Math.random()}`, type: 'ping' });
    const response = await send(`${url}/webhooks/stripe`, {
      body: payload,
      headers: { ...JSON_TYPE, 'stripe-signature': stripeSignature(payload, STRIPE_SECRET) },
    });
    assert.equal(response.status, 200, `follow-up request failed: ${response.text}`);
  }

  function assertRejected(response: SentResponse, status: number, reason?: string, label = '') {
    assert.equal(response.status, status, `${label}: ${response.text}`);
    assert.match(String(response.json?.code), /^PACTOWN_ERR_/, label);
    assert.equal(typeof response.json?.error, 'string', label);
    assert.ok(response.json?.route, label);
    if (reason !== undefined) {
      assert.equal(response.json?.reason, reason, label);
    }
  }

  async function post(path: string, body: string | Buffer, headers: OutgoingHttpHeaders) {
    return send(`${url}${path}`, { body, headers: { ...JSON_TYPE, ...headers } });
  }

  test('stripe rejects every malformed header shape', async () => {
    const t = nowSeconds();
    const good = stripeSignature(PAYLOAD, STRIPE_SECRET, t);
    const v1 = good.split('v1=')[1];
    const cases: [string, OutgoingHttpHeaders, string][] = [
      ['missing', {}, 'signature_missing'],
      ['empty', { 'stripe-signature': '' }, 'signature_malformed'],
      ['garbage', { 'stripe-signature': 'not a signature' }, 'signature_malformed'],
      ['short', { 'stripe-signature': `t=${t},v1=${v1.slice(1)}` }, 'signature_malformed'],
      ['non-hex', { 'stripe-signature': `t=${t},v1=${'q'.repeat(64)}` }, 'signature_malformed'],
      ['no timestamp', { 'stripe-signature': `v1=${v1}` }, 'timestamp_missing'],
      ['no v1', { 'stripe-signature': `t=${t},v0=${v1}` }, 'signature_missing'],
      ['repeated header', { 'stripe-signature': [good, good] }, 'signature_malformed'],
      ['unicode', { 'stripe-signature': `t=${t},v1=${'é'.repeat(32)}` }, 'signature_malformed'],
    ];
    for (const [name, headers, reason] of cases) {
      assertRejected(await post('/webhooks/stripe', PAYLOAD, headers), 401, reason, name);
      assert.equal(
        (await post('/webhooks/stripe', PAYLOAD, headers)).json.code,
        'PACTOWN_ERR_WEBHOOK_SIGNATURE',
      );
      await assertStillServing();
    }
  });

  test('stripe rejects replays, a tampered byte and a wrong secret', async () => {
    const now = nowSeconds();
    const cases: [string, string, string, string][] = [
      [
        'past',
        PAYLOAD,
        stripeSignature(PAYLOAD, STRIPE_SECRET, now - 600),
        'timestamp_outside_tolerance',
      ],
      [
        'future',
        PAYLOAD,
        stripeSignature(PAYLOAD, STRIPE_SECRET, now + 600),
        'timestamp_outside_tolerance',
      ],
      [
        'tampered',
        PAYLOAD.replace('failed', 'faileD'),
        stripeSignature(PAYLOAD, STRIPE_SECRET),
        'signature_mismatch',
      ],
      ['wrong secret', PAYLOAD, stripeSignature(PAYLOAD, 'whsec_wrong'), 'signature_mismatch'],
    ];
    for (const [name, body, signature, reason] of cases) {
      const response = await post('/webhooks/stripe', body, { 'stripe-signature': signature });
      assertRejected(response, 401, reason, name);
      await assertStillServing();
    }
    assert.ok(
      upstream.requests.every((request) => !request.body.includes('faileD')),
      'a rejected event reached the target',
    );
  });

  test('github rejects SHA-1-only, malformed, tampered and wrongly signed requests', async () => {
    const good = await githubSignature(GITHUB_SECRET, PAYLOAD);
    const sha1 = `sha1=${createHmac('sha1', GITHUB_SECRET).update(PAYLOAD).digest('hex')}`;
    const cases: [string, string, OutgoingHttpHeaders, string][] = [
      ['sha1 only', PAYLOAD, { 'x-hub-signature': sha1 }, 'signature_missing'],
      ['empty', PAYLOAD, { 'x-hub-signature-256': '' }, 'signature_malformed'],
      ['no prefix', PAYLOAD, { 'x-hub-signature-256': good.slice(7) }, 'signature_malformed'],
      ['repeated', PAYLOAD, { 'x-hub-signature-256': [good, good] }, 'signature_malformed'],
      ['tampered', `${PAYLOAD} `, { 'x-hub-signature-256': good }, 'signature_mismatch'],
      [
        'wrong secret',
        PAYLOAD,
        { 'x-hub-signature-256': await githubSignature('x', PAYLOAD) },
        'signature_mismatch',
      ],
    ];
    for (const [name, body, headers, reason] of cases) {
      assertRejected(await post('/webhooks/github', body, headers), 401, reason, name);
      await assertStillServing();
    }
  });

  test('github answers 415 for a signed body of another type', async () => {
    const response = await send(`${url}/webhooks/github`, {
      body: 'plain',
      headers: {
        'content-type': 'text/plain',
        'x-hub-signature-256': await githubSignature(GITHUB_SECRET, 'plain'),
      },
    });
    assertRejected(response, 415, 'content_type_unsupported');
    assert.equal(response.json.code, 'PACTOWN_ERR_UNSUPPORTED_MEDIA_TYPE');
    await assertStillServing();
  });

  test('standard-webhooks rejects replays and malformed headers', async () => {
    const now = nowSeconds();
    const signed = (t: number, id = 'msg_1') => ({
      'webhook-id': id,
      'webhook-timestamp': String(t),
      'webhook-signature': standardSignature(STANDARD_SECRET, id, t, PAYLOAD),
    });
    const cases: [string, OutgoingHttpHeaders, string][] = [
      ['past', signed(now - 301), 'timestamp_outside_tolerance'],
      ['future', signed(now + 301), 'timestamp_outside_tolerance'],
      ['no headers', {}, 'signature_missing'],
      ['bad list', { ...signed(now), 'webhook-signature': 'v1' }, 'signature_malformed'],
      [
        'repeated',
        { ...signed(now), 'webhook-timestamp': [String(now), String(now)] },
        'signature_malformed',
      ],
    ];
    for (const [name, headers, reason] of cases) {
      assertRejected(
        await post('/webhooks/standard-webhooks', PAYLOAD, headers),
        401,
        reason,
        name,
      );
      await assertStillServing();
    }
  });

  test('inpost hmac rejects replays in both directions', async () => {
    const now = nowSeconds();
    for (const offset of [-301, 301]) {
      const t = now + offset;
      const signature = createHmac('sha256', INPOST_SECRET)
        .update(`${t}.${PAYLOAD}`)
        .digest('base64');
      const response = await post('/webhooks/inpost', PAYLOAD, {
        'x-inpost-signature': signature,
        'x-inpost-timestamp': String(t),
      });
      assertRejected(response, 401, 'timestamp_outside_tolerance', `offset ${offset}`);
      await assertStillServing();
    }
  });

  test('allegro rejects a tampered byte', async () => {
    const signature = createHmac('sha256', ALLEGRO_SECRET).update(PAYLOAD).digest('hex');
    const response = await post('/webhooks/allegro', PAYLOAD.replace('evt', 'evT'), {
      'x-allegro-signature': signature,
    });
    assertRejected(response, 401, 'signature_mismatch');
    await assertStillServing();
  });

  test('answers 413 for a body over the limit', async () => {
    const big = Buffer.alloc(1024 * 1024 + 1, 'a');
    const declared = await post('/webhooks/stripe', big, { 'stripe-signature': 't=1,v1=00' });
    assertRejected(declared, 413);
    assert.equal(declared.json.code, 'PACTOWN_ERR_BODY_TOO_LARGE');
    await assertStillServing();
    const small = Buffer.alloc(2048, 'b');
    const custom = await post('/webhooks/stripe-small', small, { 'stripe-signature': 't=1,v1=00' });
    assertRejected(custom, 413);
    assert.equal(custom.json.error, 'request body exceeds 1024 bytes');
    await assertStillServing();
  });

  test('answers 413 for a chunked body over the limit', async () => {
    const big = Buffer.alloc(3 * 1024 * 1024, 'c');
    const response = await send(`${url}/webhooks/stripe`, {
      body: big,
      chunked: true,
      headers: { ...JSON_TYPE, 'stripe-signature': 't=1,v1=00' },
    });
    assertRejected(response, 413);
    await assertStillServing();
  });

  test('answers 405 for other methods', async () => {
    const response = await send(`${url}/webhooks/stripe`, { method: 'GET' });
    assertRejected(response, 405);
    assert.equal(response.json.code, 'PACTOWN_ERR_METHOD_NOT_ALLOWED');
    await assertStillServing();
  });

  test('logs each rejection once without secrets', async () => {
    logLines.length = 0;
    const t = nowSeconds();
    const wrongSignature = stripeSignature(PAYLOAD, 'whsec_attacker', t);
    const expected = stripeSignature(PAYLOAD, STRIPE_SECRET, t).split('v1=')[1];
    const response = await post('/webhooks/stripe', PAYLOAD, {
      'stripe-signature': wrongSignature,
    });
    assert.equal(response.status, 401);
    const warnings = logLines.map((line) => JSON.parse(line)).filter((entry) => entry.level === 40);
    assert.equal(warnings.length, 1, logLines.join(''));
    assert.equal(warnings[0].provider, 'stripe');
    assert.equal(warnings[0].event_id, 'evt_reject');
    assert.equal(warnings[0].reason, 'signature_mismatch');
    const text = logLines.join('');
    assert.doesNotMatch(text, new RegExp(STRIPE_SECRET));
    assert.doesNotMatch(text, new RegExp(expected));
    assert.doesNotMatch(response.text, new RegExp(expected));
  });

  test('names each log field once', async () => {
    const body = JSON.stringify({ id: 'evt_log_fields', type: 'charge.failed' });
    for (let attempt = 0; attempt < 2; attempt++) {
      logLines.length = 0;
      const response = await post('/webhooks/stripe', body, {
        'stripe-signature': stripeSignature(body, STRIPE_SECRET, nowSeconds()),
      });
      assert.equal(response.status, 200);
    }
    const duplicate = logLines.find((line) => line.includes('skipped a duplicate webhook'));
    assert.ok(duplicate, logLines.join(''));
    for (const key of ['route', 'provider', 'event_id']) {
      assert.equal(duplicate.split(`"${key}":`).length - 1, 1, `${key} in ${duplicate}`);
    }
  });
});

test('malformed content type names the value', async (t) => {
  const loaded = await loadTestConfig(
    `routes:\n  - provider: stripe\n    secret: ${STRIPE_SECRET}\n`,
  );
  const gateway = await createGateway(loaded, { logger: false, env: {} });
  t.after(() => gateway.close());
  const url = await gateway.listen(0, '127.0.0.1');
  const response = await send(`${url}/webhooks/stripe`, {
    body: PAYLOAD,
    headers: { 'content-type': ';;;', 'stripe-signature': 't=1,v1=00' },
  });
  assert.equal(response.status, 415);
  assert.equal(response.json.error, 'unsupported or malformed Content-Type ";;;"');
});

test('server body limit covers webhook routes', async (t) => {
  const loaded = await loadTestConfig(`
server:
  body_limit: 1kb
routes:
  - provider: stripe
    secret: ${STRIPE_SECRET}
  - provider: github
    secret: ${GITHUB_SECRET}
    body_limit: 4kb
`);
  const gateway = await createGateway(loaded, { logger: false, env: {} });
  t.after(() => gateway.close());
  const url = await gateway.listen(0, '127.0.0.1');
  const body = Buffer.alloc(2048, 'a');
  const stripe = await send(`${url}/webhooks/stripe`, {
    body,
    headers: { ...JSON_TYPE, 'stripe-signature': 't=1,v1=00' },
  });
  assert.equal(stripe.status, 413, 'the server limit applies to a route without its own');
  const github = await send(`${url}/webhooks/github`, {
    body,
    headers: { ...JSON_TYPE, 'x-hub-signature-256': `sha256=${'0'.repeat(64)}` },
  });
  assert.equal(github.status, 401, "the route's own limit wins");
});
