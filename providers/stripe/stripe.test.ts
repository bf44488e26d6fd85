import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { describe, test } from 'node:test';
import {
  createProvider,
  nowSeconds,
  stripeSignature,
  webhookRequest,
} from '../../test/webhooks-support.js';
import stripe from './index.js';

const SECRET = 'whsec_test_primary';
const OTHER = 'whsec_test_secondary';
const PAYLOAD = JSON.stringify({ id: 'evt_123', type: 'payment_intent.succeeded' });

async function verify(header: string | string[] | undefined, options = {}, fields = {}) {
  const provider = await createProvider(stripe, { secrets: [SECRET], ...options });
  const headers = header === undefined ? {} : { 'stripe-signature': header };
  return provider.verify(webhookRequest({ body: PAYLOAD, headers, ...fields }));
}

function v1(secret: string, timestamp: number, payload: string | Buffer = PAYLOAD): string {
  return createHmac('sha256', secret).update(`${timestamp}.`).update(payload).digest('hex');
}

describe('stripe provider', () => {
  test('accepts the official test header', async () => {
    const result = await verify(stripeSignature(PAYLOAD, SECRET));
    assert.deepEqual(result, {
      ok: true,
      eventId: 'evt_123',
      eventType: 'payment_intent.succeeded',
    });
  });

  test('keys the HMAC with the whole whsec_ string', async () => {
    const t = nowSeconds();
    const withoutPrefix = v1(SECRET.slice('whsec_'.length), t);
    const result = await verify(`t=${t},v1=${withoutPrefix}`);
    assert.equal(result.ok, false);
    assert.equal(!result.ok && result.reason, 'signature_mismatch');
  });

  test('accepts any v1 of a rolled secret, in either order', async () => {
    const t = nowSeconds();
    for (const order of [
      [SECRET, OTHER],
      [OTHER, SECRET],
    ]) {
      const header = `t=${t},${order.map((secret) => `v1=${v1(secret, t)}`).join(',')}`;
      const result = await verify(header, { secrets: [SECRET] });
      assert.equal(result.ok, true, `order ${order.join(', ')}`);
    }
  });

  test('accepts either configured secret', async () => {
    for (const secret of [SECRET, OTHER]) {
      const result = await verify(stripeSignature(PAYLOAD, secret), { secrets: [OTHER, SECRET] });
      assert.equal(result.ok, true, secret);
    }
  });

  test('ignores v0 signatures', async () => {
    const t = nowSeconds();
    const onlyV0 = await verify(`t=${t},v0=${v1(SECRET, t)}`);
    assert.equal(!onlyV0.ok && onlyV0.reason, 'signature_missing');
    const withV0 = await verify(`t=${t},v1=${v1(SECRET, t)},v0=${'0'.repeat(64)}`);
    assert.equal(withV0.ok, true);
  });

  test('rejects malformed headers', async () => {
    const t = nowSeconds();
    const good = v1(SECRET, t);
    const cases: [string, string | string[], string][] = [
      ['empty', '', 'signature_malformed'],
      ['no key=value', 'garbage', 'signature_malformed'],
      ['empty key', `=1,v1=${good}`, 'signature_malformed'],
      ['short v1', `t=${t},v1=${good.slice(2)}`, 'signature_malformed'],
      ['long v1', `t=${t},v1=${good}00`, 'signature_malformed'],
      ['non-hex v1', `t=${t},v1=${'z'.repeat(64)}`, 'signature_malformed'],
      ['empty v1', `t=${t},v1=`, 'signature_malformed'],
      ['no timestamp', `v1=${good}`, 'timestamp_missing'],
      ['empty timestamp', `t=,v1=${good}`, 'signature_malformed'],
      ['non-numeric timestamp', `t=12ab,v1=${good}`, 'signature_malformed'],
      ['two timestamps', `t=${t},v1=${good}, t=${t},v1=${good}`, 'signature_malformed'],
      ['no signature', `t=${t}`, 'signature_missing'],
      ['repeated header', [`t=${t},v1=${good}`, `t=${t},v1=${good}`], 'signature_malformed'],
    ];
    for (const [name, header, reason] of cases) {
      const result = await verify(header);
      assert.equal(result.ok, false, name);
      assert.equal(!result.ok && result.reason, reason, name);
    }
  });

  test('rejects a missing header', async () => {
    const result = await verify(undefined);
    assert.equal(!result.ok && result.reason, 'signature_missing');
  });

  test('rejects replays outside the tolerance', async () => {
    const now = nowSeconds();
    for (const offset of [-301, 301, -86_400, 86_400]) {
      const result = await verify(stripeSignature(PAYLOAD, SECRET, now + offset), {}, { now });
      assert.equal(!result.ok && result.reason, 'timestamp_outside_tolerance', `offset ${offset}`);
    }
    for (const offset of [-300, 300]) {
      const result = await verify(stripeSignature(PAYLOAD, SECRET, now + offset), {}, { now });
      assert.equal(result.ok, true, `offset ${offset}`);
    }
  });

  test('applies a configured tolerance', async () => {
    const now = nowSeconds();
    const header = stripeSignature(PAYLOAD, SECRET, now - 90);
    const strict = await verify(header, { tolerance: 60 }, { now });
    assert.equal(!strict.ok && strict.reason, 'timestamp_outside_tolerance');
    const lenient = await verify(header, { tolerance: 120 }, { now });
    assert.equal(lenient.ok, true);
  });

  test('rejects a tampered byte and a wrong secret', async () => {
    const header = stripeSignature(PAYLOAD, SECRET);
    const tampered = PAYLOAD.replace('evt_123', 'evt_124');
    const provider = await createProvider(stripe, { secrets: [SECRET] });
    const result = await provider.verify(
      webhookRequest({ body: tampered, headers: { 'stripe-signature': header } }),
    );
    assert.equal(!result.ok && result.reason, 'signature_mismatch');
    const wrong = await verify(stripeSignature(PAYLOAD, 'whsec_wrong'));
    assert.equal(!wrong.ok && wrong.reason, 'signature_mismatch');
  });

  test('signs as stripe-node does', () => {
    const t = 1_700_000_000;
    const headers = stripe.sign?.({
      body: Buffer.from(PAYLOAD),
      secret: SECRET,
      timestamp: t,
      id: 'unused',
      options: {},
    });
    assert.deepEqual(headers, { 'Stripe-Signature': stripeSignature(PAYLOAD, SECRET, t) });
  });
});
