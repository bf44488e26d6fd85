import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { describe, test } from 'node:test';
import { createProvider, githubSignature, webhookRequest } from '../../test/webhooks-support.js';
import github from './index.js';

const SECRET = 'github-secret-one';
const OTHER = 'github-secret-two';
const PAYLOAD = JSON.stringify({ action: 'opened', number: 1 });
const JSON_TYPE = 'application/json';

async function verify(
  headers: Record<string, string | string[]>,
  body = PAYLOAD,
  secrets = [SECRET],
) {
  const provider = await createProvider(github, { secrets });
  return provider.verify(
    webhookRequest({
      body,
      headers: {
        'content-type': JSON_TYPE,
        'x-github-event': 'pull_request',
        'x-github-delivery': '72d3162e-cc78-11e3-81ab-4c9367dc0958',
        ...headers,
      },
    }),
  );
}

describe('github provider', () => {
  test('matches the documented test vector', async () => {
    const provider = await createProvider(github, { secrets: ["It's a Secret to Everybody"] });
    const result = await provider.verify(
      webhookRequest({
        body: 'Hello, World!',
        headers: {
          'content-type': 'application/json',
          'x-hub-signature-256':
            'sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17',
        },
      }),
    );
    assert.equal(result.ok, true);
  });

  test('accepts an octokit signature with the delivery id', async () => {
    const result = await verify({ 'x-hub-signature-256': await githubSignature(SECRET, PAYLOAD) });
    assert.deepEqual(result, {
      ok: true,
      eventId: '72d3162e-cc78-11e3-81ab-4c9367dc0958',
      eventType: 'pull_request',
    });
  });

  test('accepts a form-encoded body', async () => {
    const body = `payload=${encodeURIComponent(PAYLOAD)}`;
    const result = await verify(
      {
        'content-type': 'application/x-www-form-urlencoded',
        'x-hub-signature-256': await githubSignature(SECRET, body),
      },
      body,
    );
    assert.equal(result.ok, true);
  });

  test('tries every secret during a rotation', async () => {
    for (const secret of [SECRET, OTHER]) {
      for (const secrets of [
        [SECRET, OTHER],
        [OTHER, SECRET],
      ]) {
        const signature = await githubSignature(secret, PAYLOAD);
        const result = await verify({ 'x-hub-signature-256': signature }, PAYLOAD, secrets);
        assert.equal(result.ok, true, `${secret} with ${secrets.join(', ')}`);
      }
    }
  });

  test('rejects a SHA-1-only request', async () => {
    const sha1 = createHmac('sha1', SECRET).update(PAYLOAD).digest('hex');
    const result = await verify({ 'x-hub-signature': `sha1=${sha1}` });
    assert.equal(result.ok, false);
    assert.equal(!result.ok && result.reason, 'signature_missing');
    assert.match(!result.ok ? result.message : '', /SHA-1/);
  });

  test('rejects malformed headers', async () => {
    const good = (await githubSignature(SECRET, PAYLOAD)).slice('sha256='.length);
    const cases: [string, string | string[]][] = [
      ['empty', ''],
      ['no prefix', good],
      ['sha1 prefix', `sha1=${good}`],
      ['short', `sha256=${good.slice(1)}`],
      ['long', `sha256=${good}0`],
      ['non-hex', `sha256=${'g'.repeat(64)}`],
      ['base64', `sha256=${Buffer.from(good, 'hex').toString('base64')}`],
      ['joined duplicate', `sha256=${good}, sha256=${good}`],
      ['repeated', [`sha256=${good}`, `sha256=${good}`]],
    ];
    for (const [name, header] of cases) {
      const result = await verify({ 'x-hub-signature-256': header });
      assert.equal(!result.ok && result.reason, 'signature_malformed', name);
    }
  });

  test('rejects a tampered byte and a wrong secret', async () => {
    const signature = await githubSignature(SECRET, PAYLOAD);
    const tampered = await verify({ 'x-hub-signature-256': signature }, PAYLOAD.replace('1', '2'));
    assert.equal(!tampered.ok && tampered.reason, 'signature_mismatch');
    const wrong = await verify({ 'x-hub-signature-256': await githubSignature('nope', PAYLOAD) });
    assert.equal(!wrong.ok && wrong.reason, 'signature_mismatch');
  });

  test('answers a ping itself', async () => {
    const result = await verify({
      'x-github-event': 'ping',
      'x-github-hook-id': '42',
      'x-hub-signature-256': await githubSignature(SECRET, PAYLOAD),
    });
    assert.equal(result.ok, true);
    assert.equal(result.ok && result.response?.final, true);
    assert.deepEqual(result.ok && result.response?.body, {
      status: 'ok',
      provider: 'github',
      event: 'ping',
      hook_id: '42',
    });
  });

  test('rejects an unsupported content type with 415', async () => {
    const result = await verify({
      'content-type': 'text/plain',
      'x-hub-signature-256': await githubSignature(SECRET, PAYLOAD),
    });
    assert.equal(!result.ok && result.status, 415);
  });
});
