import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { describe, test } from 'node:test';
import { createProvider, webhookRequest } from '../../test/webhooks-support.js';
import allegro from './index.js';

const SECRET = 'allegro-relay-secret';
const PAYLOAD = JSON.stringify({ id: 'evt-77', type: 'READY_FOR_PROCESSING' });

function hex(secret: string, body: string): string {
  return createHmac('sha256', secret).update(body).digest('hex');
}

async function verify(header: string | string[] | undefined, body = PAYLOAD) {
  const provider = await createProvider(allegro, { secrets: [SECRET] });
  const headers = header === undefined ? {} : { 'x-allegro-signature': header };
  return provider.verify(webhookRequest({ body, headers }));
}

describe('allegro provider', () => {
  test('accepts the hex HMAC of the body', async () => {
    const result = await verify(hex(SECRET, PAYLOAD));
    assert.deepEqual(result, { ok: true, eventId: 'evt-77', eventType: 'READY_FOR_PROCESSING' });
  });

  test('accepts upper-case hex', async () => {
    const result = await verify(hex(SECRET, PAYLOAD).toUpperCase());
    assert.equal(result.ok, true);
  });

  test('rejects missing, malformed and wrong signatures', async () => {
    const good = hex(SECRET, PAYLOAD);
    const cases: [string, string | string[] | undefined, string][] = [
      ['missing', undefined, 'signature_missing'],
      ['empty', '', 'signature_malformed'],
      ['short', good.slice(1), 'signature_malformed'],
      ['non-hex', 'x'.repeat(64), 'signature_malformed'],
      ['prefixed', `sha256=${good}`, 'signature_malformed'],
      ['repeated', [good, good], 'signature_malformed'],
      ['wrong secret', hex('other', PAYLOAD), 'signature_mismatch'],
    ];
    for (const [name, header, reason] of cases) {
      const result = await verify(header);
      assert.equal(!result.ok && result.reason, reason, name);
    }
  });

  test('rejects a tampered byte', async () => {
    const result = await verify(hex(SECRET, PAYLOAD), PAYLOAD.replace('77', '78'));
    assert.equal(!result.ok && result.reason, 'signature_mismatch');
  });
});
