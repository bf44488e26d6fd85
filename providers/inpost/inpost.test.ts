import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { describe, test } from 'node:test';
import { createProvider, nowSeconds, webhookRequest } from '../../test/webhooks-support.js';
import { createAllowList, parseAllowEntry } from './allow-list.js';
import inpost from './index.js';
import { parseInpostTimestamp } from './signed.js';

const SECRET = 'inpost-shared-secret';
const PAYLOAD = JSON.stringify({
  event_ts: '2020-03-20 15:08:42 +0100',
  event: 'shipment_status_changed',
  organization_id: 1,
  payload: { shipment_id: 49, status: 'delivered' },
});
const INPOST_IP = '91.216.25.7';
const ROUTE = '/webhooks/inpost';

function base64Hmac(secret: string, content: string): string {
  return createHmac('sha256', secret).update(content).digest('base64');
}

describe('inpost allow-list', () => {
  test('parses addresses and ranges', () => {
    assert.deepEqual(parseAllowEntry('91.216.25.0/24'), {
      address: '91.216.25.0',
      prefix: 24,
      family: 'ipv4',
    });
    assert.equal(parseAllowEntry('10.0.0.1')?.prefix, 32);
    assert.equal(parseAllowEntry('2001:db8::/32')?.family, 'ipv6');
    for (const invalid of [
      '91.216.25.0/33',
      '91.216.25/24',
      'example.com',
      '1.2.3.4/',
      '1.2.3.4/8/8',
      '::/129',
    ]) {
      assert.equal(parseAllowEntry(invalid), undefined, invalid);
    }
  });

  test('matches IPv4, IPv4-mapped IPv6 and IPv6 addresses', () => {
    const allowed = createAllowList(['91.216.25.0/24', '2001:db8::/32']);
    assert.equal(allowed('91.216.25.0'), true);
    assert.equal(allowed('91.216.25.255'), true);
    assert.equal(allowed('::ffff:91.216.25.9'), true);
    assert.equal(allowed('2001:db8::1'), true);
    assert.equal(allowed('91.216.26.1'), false);
    assert.equal(allowed('127.0.0.1'), false);
    assert.equal(allowed('not-an-ip'), false);
  });
});

describe('inpost shipx mode', () => {
  async function verify(fields: Parameters<typeof webhookRequest>[0], options = {}) {
    const provider = await createProvider(inpost, { mode: 'shipx', ...options }, ROUTE);
    return provider.verify(webhookRequest({ body: PAYLOAD, url: ROUTE, ip: INPOST_IP, ...fields }));
  }

  test('accepts InPost addresses and keys events on the body hash', async () => {
    const first = await verify({});
    const again = await verify({});
    assert.equal(first.ok, true);
    assert.equal(first.ok && first.eventType, 'shipment_status_changed');
    assert.match((first.ok && first.eventId) || '', /^sha256:[0-9a-f]{64}$/);
    assert.equal(first.ok && again.ok && first.eventId === again.eventId, true);
  });

  test('rejects addresses outside the allow-list', async () => {
    const result = await verify({ ip: '203.0.113.9' });
    assert.equal(!result.ok && result.reason, 'source_not_allowed');
    assert.equal(!result.ok && result.code, 'PACTOWN_ERR_WEBHOOK_SOURCE');
  });

  test('uses a configured allow-list', async () => {
    const result = await verify({ ip: '203.0.113.9' }, { allow: ['203.0.113.0/24'] });
    assert.equal(result.ok, true);
    const inpostRange = await verify({}, { allow: ['203.0.113.0/24'] });
    assert.equal(!inpostRange.ok && inpostRange.reason, 'source_not_allowed');
  });

  test('checks a token in the path or the query', async () => {
    const options = { token: 's3cr3t-token' };
    const cases: [string, Partial<Parameters<typeof webhookRequest>[0]>, string | undefined][] = [
      ['path', { url: `${ROUTE}/s3cr3t-token` }, undefined],
      [
        'query',
        { url: `${ROUTE}?token=s3cr3t-token`, query: { token: 's3cr3t-token' } },
        undefined,
      ],
      ['missing', {}, 'token_missing'],
      ['wrong path', { url: `${ROUTE}/guess` }, 'token_mismatch'],
      ['prefix of token', { url: `${ROUTE}/s3cr3t` }, 'token_mismatch'],
      ['two segments', { url: `${ROUTE}/s3cr3t-token/x` }, 'token_mismatch'],
      ['bad escape', { url: `${ROUTE}/%E0%A4%A` }, 'token_mismatch'],
      ['repeated query', { query: { token: ['s3cr3t-token', 'x'] } }, 'token_mismatch'],
    ];
    for (const [name, fields, reason] of cases) {
      const result = await verify(fields, options);
      if (reason === undefined) {
        assert.equal(result.ok, true, name);
      } else {
        assert.equal(!result.ok && result.reason, reason, name);
        assert.equal(!result.ok && result.code, 'PACTOWN_ERR_WEBHOOK_TOKEN', name);
      }
    }
  });

  test('answers the registration probe', async () => {
    const provider = await createProvider(inpost, { mode: 'shipx' }, ROUTE);
    const response = provider.probe?.(webhookRequest({ method: 'GET', url: ROUTE }));
    assert.equal(response?.status, 200);
  });
});

describe('inpost hmac mode', () => {
  async function verify(
    headers: Record<string, string | string[]>,
    options = {},
    now = nowSeconds(),
  ) {
    const provider = await createProvider(inpost, { mode: 'hmac', secrets: [SECRET], ...options });
    return provider.verify(webhookRequest({ body: PAYLOAD, headers, now }));
  }

  test('accepts a body signature when configured', async () => {
    for (const options of [{ signed: 'body' }, { require_timestamp: false }]) {
      const result = await verify(
        {
          'x-inpost-signature': base64Hmac(SECRET, PAYLOAD),
          'x-inpost-event-id': 'ev-1',
          'x-inpost-topic': 'shipment.delivered',
          'x-inpost-timestamp': 'not signed, so not read',
        },
        options,
      );
      assert.deepEqual(result, { ok: true, eventId: 'ev-1', eventType: 'shipment.delivered' });
    }
  });

  test('rejects a timestamp moved into the body', async () => {
    // A request signed over `<t>.<body>`, resent without the header and with `<t>.` put in front
    // of the body, has a body whose plain HMAC is the original signature.
    const t = nowSeconds() - 30 * 86_400;
    const provider = await createProvider(inpost, { mode: 'hmac', secrets: [SECRET] });
    const forged = `${t}.${PAYLOAD}`;
    const result = await provider.verify(
      webhookRequest({
        body: forged,
        headers: { 'x-inpost-signature': base64Hmac(SECRET, forged) },
        now: nowSeconds(),
      }),
    );
    assert.equal(!result.ok && result.reason, 'timestamp_missing');
  });

  test('accepts a signature over timestamp and body', async () => {
    const t = nowSeconds();
    const result = await verify({
      'x-inpost-signature': base64Hmac(SECRET, `${t}.${PAYLOAD}`),
      'x-inpost-timestamp': String(t),
    });
    assert.equal(result.ok, true);
  });

  test('rejects a body-only signature when a timestamp is sent', async () => {
    const result = await verify({
      'x-inpost-signature': base64Hmac(SECRET, PAYLOAD),
      'x-inpost-timestamp': String(nowSeconds()),
    });
    assert.equal(!result.ok && result.reason, 'signature_mismatch');
  });

  test('requires the timestamp by default', async () => {
    for (const options of [{}, { require_timestamp: true }, { signed: 'timestamp_body' }]) {
      const result = await verify({ 'x-inpost-signature': base64Hmac(SECRET, PAYLOAD) }, options);
      assert.equal(!result.ok && result.reason, 'timestamp_missing');
    }
  });

  test('rejects replays outside the tolerance', async () => {
    const now = nowSeconds();
    for (const offset of [-301, 301]) {
      const t = now + offset;
      const result = await verify(
        {
          'x-inpost-signature': base64Hmac(SECRET, `${t}.${PAYLOAD}`),
          'x-inpost-timestamp': String(t),
        },
        {},
        now,
      );
      assert.equal(!result.ok && result.reason, 'timestamp_outside_tolerance', `offset ${offset}`);
    }
  });

  test('rejects malformed headers', async () => {
    const good = base64Hmac(SECRET, PAYLOAD);
    const cases: [string, Record<string, string | string[]>, string][] = [
      ['missing', {}, 'signature_missing'],
      ['empty', { 'x-inpost-signature': '' }, 'signature_malformed'],
      [
        'hex',
        { 'x-inpost-signature': Buffer.from(good, 'base64').toString('hex') },
        'signature_malformed',
      ],
      ['no padding', { 'x-inpost-signature': good.replace(/=+$/, '') }, 'signature_malformed'],
      ['short', { 'x-inpost-signature': good.slice(4) }, 'signature_malformed'],
      ['repeated', { 'x-inpost-signature': [good, good] }, 'signature_malformed'],
      [
        'bad timestamp',
        {
          'x-inpost-signature': base64Hmac(SECRET, `soon.${PAYLOAD}`),
          'x-inpost-timestamp': 'soon',
        },
        'timestamp_malformed',
      ],
      [
        'repeated timestamp',
        { 'x-inpost-signature': good, 'x-inpost-timestamp': ['1', '2'] },
        'timestamp_malformed',
      ],
      [
        'wrong secret',
        {
          'x-inpost-signature': base64Hmac('other', `${nowSeconds()}.${PAYLOAD}`),
          'x-inpost-timestamp': String(nowSeconds()),
        },
        'signature_mismatch',
      ],
    ];
    for (const [name, headers, reason] of cases) {
      const result = await verify(headers);
      assert.equal(!result.ok && result.reason, reason, name);
    }
  });

  test('parses timestamps in seconds, milliseconds and ISO-8601', () => {
    assert.equal(parseInpostTimestamp('1700000000'), 1_700_000_000);
    assert.equal(parseInpostTimestamp('1700000000123'), 1_700_000_000);
    assert.equal(parseInpostTimestamp('2023-11-14T22:13:20Z'), 1_700_000_000);
    assert.equal(parseInpostTimestamp('2020-03-20 15:08:42 +0100'), undefined);
    assert.equal(parseInpostTimestamp(''), undefined);
  });
});

describe('inpost legacy mode', () => {
  async function verify(header: string | undefined, body = PAYLOAD) {
    const provider = await createProvider(inpost, { secrets: [SECRET] });
    const headers = header === undefined ? {} : { 'x-inpost-signature': header };
    return provider.verify(webhookRequest({ body, headers }));
  }
  const hex = createHmac('sha256', SECRET).update(PAYLOAD).digest('hex');

  test('is the default and accepts sha256=<hex>', async () => {
    const result = await verify(`sha256=${hex}`);
    assert.equal(result.ok, true);
  });

  test('rejects bare hex, base64 and a tampered body', async () => {
    assert.equal((await verify(hex)).ok, false);
    assert.equal((await verify(Buffer.from(hex, 'hex').toString('base64'))).ok, false);
    const tampered = await verify(`sha256=${hex}`, PAYLOAD.replace('49', '50'));
    assert.equal(!tampered.ok && tampered.reason, 'signature_mismatch');
  });
});

describe('inpost route checks', () => {
  function check(options: Record<string, unknown>) {
    return inpost.check?.({ secrets: [], tolerance: 300, ...options }) ?? [];
  }

  test('accepts the documented shapes', () => {
    assert.deepEqual(check({ mode: 'shipx', token: 'abc', allow: ['91.216.25.0/24'] }), []);
    assert.deepEqual(check({ mode: 'hmac', secrets: ['x'], require_timestamp: true }), []);
    assert.deepEqual(check({ mode: 'hmac', secrets: ['x'], signed: 'body' }), []);
    assert.deepEqual(check({ secrets: ['x'] }), []);
  });

  test('reports misplaced and invalid keys', () => {
    const paths = (options: Record<string, unknown>) =>
      check(options).map((problem) => problem.path.join('.'));
    assert.deepEqual(paths({ mode: 'hmac', secrets: ['x'], allow: ['1.2.3.4'] }), ['allow']);
    assert.deepEqual(paths({ mode: 'shipx', require_timestamp: true }), ['require_timestamp']);
    assert.deepEqual(paths({ mode: 'legacy', signed: 'body' }), ['signed']);
    assert.deepEqual(
      paths({ mode: 'hmac', secrets: ['x'], signed: 'body', require_timestamp: true }),
      ['require_timestamp'],
    );
    assert.deepEqual(paths({ mode: 'shipx', allow: ['1.2.3.4', 'nope'] }), ['allow.1']);
    assert.deepEqual(paths({ mode: 'shipx', secrets: ['x'] }), ['secret']);
    assert.deepEqual(paths({ mode: 'shipx', token: '' }), ['token']);
  });

  test('needs a secret except in shipx mode', () => {
    const rule = inpost.requiresSecret as (options: Record<string, unknown>) => boolean;
    assert.equal(rule({}), true);
    assert.equal(rule({ mode: 'hmac' }), true);
    assert.equal(rule({ mode: 'shipx' }), false);
  });
});
