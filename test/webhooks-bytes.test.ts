import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { createGateway, type Gateway } from '../core/index.js';
import { loadTestConfig, startUpstream, type TestUpstream } from './helpers.js';
import {
  githubSignature,
  nowSeconds,
  send,
  standardSecret,
  standardSignature,
  stripeSignature,
} from './webhooks-support.js';

const STRIPE_SECRET = 'whsec_bytes';
const GITHUB_SECRET = 'github-bytes';
const STANDARD_SECRET = standardSecret('s');

/** A body case: the exact bytes, the text the official signers take (when valid UTF-8), a type. */
interface BodyCase {
  name: string;
  body: Buffer;
  contentType?: string;
}

function textCase(name: string, text: string, contentType?: string): BodyCase {
  return { name, body: Buffer.from(text, 'utf8'), contentType };
}

const CASES: BodyCase[] = [
  textCase(
    'pretty-printed JSON',
    JSON.stringify({ id: 'evt_1', nested: { a: [1, 2] } }, null, 2),
    'application/json',
  ),
  textCase(
    'upper-case \\u escapes',
    '{"id":"evt_2","name":"\\u00C9mile \\u2603 \\uD83D\\uDE9A"}',
    'application/json',
  ),
  textCase(
    'non-ASCII UTF-8',
    '{"id":"evt_3","name":"Zażółć gęślą jaźń ☃ 🚚"}',
    'application/json; charset=utf-8',
  ),
  {
    name: 'bytes that are not UTF-8',
    body: Buffer.from([0x7b, 0xff, 0xfe, 0xc3, 0x28, 0x80, 0x7d]),
    contentType: 'application/octet-stream',
  },
  textCase('a trailing CRLF', '{"id":"evt_4"}\r\n', 'application/json'),
  textCase(
    'form-encoded',
    `payload=${encodeURIComponent('{"id":"evt_5","a":"b c&d"}')}`,
    'application/x-www-form-urlencoded',
  ),
  textCase('plain text', 'hello\nworld\n', 'text/plain'),
  textCase('no content type', '{"id":"evt_6"}'),
  textCase('an empty body', '', 'application/json'),
];

/** Returns whether the bytes survive a round trip through a UTF-8 string, as string signers need. */
function isUtf8(body: Buffer): boolean {
  return Buffer.from(body.toString('utf8'), 'utf8').equals(body);
}

async function stripeHeaders(body: Buffer): Promise<Record<string, string>> {
  const t = nowSeconds();
  if (isUtf8(body)) {
    return { 'stripe-signature': stripeSignature(body.toString('utf8'), STRIPE_SECRET, t) };
  }
  // stripe-node signs strings only; this is its scheme applied to the raw bytes.
  const v1 = createHmac('sha256', STRIPE_SECRET).update(`${t}.`).update(body).digest('hex');
  return { 'stripe-signature': `t=${t},v1=${v1}` };
}

async function githubHeaders(body: Buffer): Promise<Record<string, string>> {
  // @octokit/webhooks-methods refuses an empty payload and signs strings only.
  const signature =
    isUtf8(body) && body.length > 0
      ? await githubSignature(GITHUB_SECRET, body.toString('utf8'))
      : `sha256=${createHmac('sha256', GITHUB_SECRET).update(body).digest('hex')}`;
  return { 'x-hub-signature-256': signature, 'x-github-event': 'push' };
}

async function standardHeaders(body: Buffer): Promise<Record<string, string>> {
  const t = nowSeconds();
  const id = `msg_${Math.random().toString(36).slice(2)}`;
  return {
    'webhook-id': id,
    'webhook-timestamp': String(t),
    'webhook-signature': standardSignature(STANDARD_SECRET, id, t, body),
  };
}

const PROVIDERS: [string, (body: Buffer) => Promise<Record<string, string>>][] = [
  ['stripe', stripeHeaders],
  ['github', githubHeaders],
  ['standard-webhooks', standardHeaders],
];

describe('webhook body bytes', () => {
  let upstream: TestUpstream;
  let gateway: Gateway;
  let url: string;

  before(async () => {
    upstream = await startUpstream();
    const loaded = await loadTestConfig(`
routes:
  - provider: stripe
    secret: ${STRIPE_SECRET}
    target: ${upstream.url}
  - provider: github
    secret: ${GITHUB_SECRET}
    target: ${upstream.url}
  - provider: standard-webhooks
    secret: ${STANDARD_SECRET}
    target: ${upstream.url}
`);
    gateway = await createGateway(loaded, { logger: false, env: {} });
    url = await gateway.listen(0, '127.0.0.1');
  });

  after(async () => {
    await gateway.close();
    await upstream.close();
  });

  for (const [provider, sign] of PROVIDERS) {
    for (const bodyCase of CASES) {
      // GitHub sends JSON or form bodies only, so the route rejects other types with 415.
      const githubRejects =
        provider === 'github' &&
        !/^application\/(json|x-www-form-urlencoded)/.test(bodyCase.contentType ?? '');
      test(`${provider} forwards ${bodyCase.name} unchanged`, async () => {
        const before = upstream.requests.length;
        const headers: Record<string, string> = { ...(await sign(bodyCase.body)) };
        if (bodyCase.contentType) {
          headers['content-type'] = bodyCase.contentType;
        }
        const response = await send(`${url}/webhooks/${provider}`, {
          body: bodyCase.body,
          headers,
        });
        if (githubRejects) {
          assert.equal(response.status, 415, response.text);
          return;
        }
        assert.equal(response.status, 200, response.text);
        assert.equal(upstream.requests.length, before + 1);
        assert.deepEqual(upstream.requests.at(-1)?.body, bodyCase.body);
      });
    }
  }

  test('github verifies and forwards a 5 MB body', async () => {
    const body = Buffer.from(JSON.stringify({ blob: 'x'.repeat(5 * 1024 * 1024) }));
    const headers = { ...(await githubHeaders(body)), 'content-type': 'application/json' };
    const response = await send(`${url}/webhooks/github`, { body, headers });
    assert.equal(response.status, 200, response.text);
    assert.equal(upstream.requests.at(-1)?.body.length, body.length);
    assert.ok(upstream.requests.at(-1)?.body.equals(body));
  });

  test('github verifies a chunked body without Content-Length', async () => {
    const body = Buffer.from(JSON.stringify({ blob: 'y'.repeat(300_000) }));
    const headers = { ...(await githubHeaders(body)), 'content-type': 'application/json' };
    const response = await send(`${url}/webhooks/github`, { body, headers, chunked: true });
    assert.equal(response.status, 200, response.text);
    assert.ok(upstream.requests.at(-1)?.body.equals(body));
  });
});
