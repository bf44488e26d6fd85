import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  createProvider,
  nowSeconds,
  standardSecret,
  standardSignature,
  webhookRequest,
} from '../../test/webhooks-support.js';
import standardWebhooks, { decodeStandardSecret } from './index.js';

const SECRET = standardSecret('a');
const OTHER = standardSecret('b');
const ID = 'msg_2KWPBgLlAfxdpx2AI54pPJ85f4W';
const PAYLOAD = JSON.stringify({ type: 'invoice.paid', data: { id: 1 } });

function headersFor(signature: string, timestamp: number, prefix = 'webhook-') {
  return {
    [`${prefix}id`]: ID,
    [`${prefix}timestamp`]: String(timestamp),
    [`${prefix}signature`]: signature,
  };
}

async function verify(
  headers: Record<string, string | string[]>,
  body: string | Buffer = PAYLOAD,
  secrets = [SECRET],
  now = nowSeconds(),
) {
  const provider = await createProvider(standardWebhooks, { secrets });
  return provider.verify(webhookRequest({ body, headers, now }));
}

describe('standard-webhooks provider', () => {
  test('accepts the reference signer', async () => {
    const t = nowSeconds();
    const result = await verify(headersFor(standardSignature(SECRET, ID, t, PAYLOAD), t));
    assert.deepEqual(result, { ok: true, eventId: ID, eventType: 'invoice.paid' });
  });

  test('accepts svix header names', async () => {
    const t = nowSeconds();
    const result = await verify(headersFor(standardSignature(SECRET, ID, t, PAYLOAD), t, 'svix-'));
    assert.equal(result.ok, true);
  });

  test('verifies bytes that are not UTF-8', async () => {
    const t = nowSeconds();
    const body = Buffer.from([0xff, 0xfe, 0x00, 0xc3, 0x28, 0x0d, 0x0a]);
    const result = await verify(headersFor(standardSignature(SECRET, ID, t, body), t), body);
    assert.equal(result.ok, true);
  });

  test('accepts any signature of the list, with rotated secrets in either order', async () => {
    const t = nowSeconds();
    const first = standardSignature(SECRET, ID, t, PAYLOAD);
    const second = standardSignature(OTHER, ID, t, PAYLOAD);
    for (const list of [`${first} ${second}`, `${second} ${first}`]) {
      for (const secrets of [[SECRET], [OTHER], [OTHER, SECRET]]) {
        const result = await verify(headersFor(list, t), PAYLOAD, secrets);
        assert.equal(result.ok, true, `${list} with ${secrets.length} secrets`);
      }
    }
  });

  test('skips signatures of other versions', async () => {
    const t = nowSeconds();
    const good = standardSignature(SECRET, ID, t, PAYLOAD);
    const result = await verify(headersFor(`v1a,${'A'.repeat(86)}== ${good}`, t));
    assert.equal(result.ok, true);
  });

  test('rejects malformed headers', async () => {
    const t = nowSeconds();
    const good = standardSignature(SECRET, ID, t, PAYLOAD);
    const value = good.slice(3);
    const cases: [string, Record<string, string | string[]>, string][] = [
      ['no signature', { 'webhook-id': ID, 'webhook-timestamp': String(t) }, 'signature_missing'],
      ['no id', { 'webhook-timestamp': String(t), 'webhook-signature': good }, 'id_missing'],
      [
        'empty id',
        {
          'webhook-id': ' ',
          'webhook-timestamp': String(t),
          'webhook-signature': standardSignature(SECRET, '', t, PAYLOAD),
        },
        'id_missing',
      ],
      ['no timestamp', { 'webhook-id': ID, 'webhook-signature': good }, 'timestamp_missing'],
      ['empty list', headersFor('', t), 'signature_missing'],
      ['no version', headersFor(value, t), 'signature_malformed'],
      ['only v1a', headersFor(`v1a,${value}`, t), 'signature_missing'],
      ['short', headersFor(`v1,${value.slice(4)}`, t), 'signature_malformed'],
      ['not base64', headersFor(`v1,${'*'.repeat(44)}`, t), 'signature_malformed'],
      [
        'hex',
        headersFor(`v1,${Buffer.from(value, 'base64').toString('hex')}`, t),
        'signature_malformed',
      ],
      ['comma list', headersFor(`${good},${good}`, t), 'signature_malformed'],
      [
        'timestamp text',
        { ...headersFor(good, t), 'webhook-timestamp': 'yesterday' },
        'timestamp_malformed',
      ],
      [
        'timestamp ms',
        { ...headersFor(good, t), 'webhook-timestamp': `${t}000` },
        'timestamp_malformed',
      ],
      ['repeated id', { ...headersFor(good, t), 'webhook-id': [ID, ID] }, 'signature_malformed'],
      [
        'repeated signature',
        { ...headersFor(good, t), 'webhook-signature': [good, good] },
        'signature_malformed',
      ],
    ];
    for (const [name, headers, reason] of cases) {
      const result = await verify(headers);
      assert.equal(!result.ok && result.reason, reason, name);
    }
  });

  test('rejects replays outside the tolerance', async () => {
    const now = nowSeconds();
    for (const offset of [-301, 301]) {
      const t = now + offset;
      const result = await verify(
        headersFor(standardSignature(SECRET, ID, t, PAYLOAD), t),
        PAYLOAD,
        [SECRET],
        now,
      );
      assert.equal(!result.ok && result.reason, 'timestamp_outside_tolerance', `offset ${offset}`);
    }
  });

  test('rejects a tampered byte, a changed id and a wrong secret', async () => {
    const t = nowSeconds();
    const good = standardSignature(SECRET, ID, t, PAYLOAD);
    const tampered = await verify(headersFor(good, t), PAYLOAD.replace('1', '2'));
    assert.equal(!tampered.ok && tampered.reason, 'signature_mismatch');
    const otherId = await verify({ ...headersFor(good, t), 'webhook-id': 'msg_other' });
    assert.equal(!otherId.ok && otherId.reason, 'signature_mismatch');
    const wrong = await verify(headersFor(standardSignature(OTHER, ID, t, PAYLOAD), t));
    assert.equal(!wrong.ok && wrong.reason, 'signature_mismatch');
  });

  test('decodes secrets with and without prefix and padding', () => {
    const raw = Buffer.alloc(24, 'a');
    assert.deepEqual(decodeStandardSecret(SECRET), raw);
    assert.deepEqual(decodeStandardSecret(SECRET.slice('whsec_'.length)), raw);
    const unpadded = `whsec_${Buffer.from('abcd1').toString('base64').replace(/=+$/, '')}`;
    assert.deepEqual(decodeStandardSecret(unpadded), Buffer.from('abcd1'));
    assert.equal(decodeStandardSecret('whsec_not*base64'), undefined);
    assert.equal(
      standardWebhooks.validateSecret?.('whsec_'),
      'expected whsec_ followed by base64, as the sender shows it',
    );
    assert.equal(standardWebhooks.validateSecret?.(SECRET), undefined);
  });
});
