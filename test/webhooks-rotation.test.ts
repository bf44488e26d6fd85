import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { describe, test } from 'node:test';
import { startGatewayFor } from './helpers.js';
import {
  githubSignature,
  nowSeconds,
  send,
  standardSecret,
  standardSignature,
  stripeSignature,
} from './webhooks-support.js';

const OLD = 'whsec_rotation_old';
const NEW = 'whsec_rotation_new';
const JSON_TYPE = { 'content-type': 'application/json' };

function event(id: string): string {
  return JSON.stringify({ id, type: 'customer.updated' });
}

function stripeV1(secret: string, t: number, payload: string): string {
  return createHmac('sha256', secret).update(`${t}.${payload}`).digest('hex');
}

describe('secret rotation', () => {
  test('stripe accepts either v1 of a roll, in either order', async (t) => {
    const { url } = await startGatewayFor(
      t,
      `routes:\n  - provider: stripe\n    secret: [${NEW}, ${OLD}]\n`,
    );
    const signers: [string, (payload: string, time: number) => string][] = [
      [
        'new first',
        (p, time) => `t=${time},v1=${stripeV1(NEW, time, p)},v1=${stripeV1(OLD, time, p)}`,
      ],
      [
        'old first',
        (p, time) => `t=${time},v1=${stripeV1(OLD, time, p)},v1=${stripeV1(NEW, time, p)}`,
      ],
      ['old only', (p, time) => stripeSignature(p, OLD, time)],
      ['new only', (p, time) => stripeSignature(p, NEW, time)],
    ];
    for (const [name, sign] of signers) {
      const payload = event(`evt_${name.replace(' ', '_')}`);
      const response = await send(`${url}/webhooks/stripe`, {
        body: payload,
        headers: { ...JSON_TYPE, 'stripe-signature': sign(payload, nowSeconds()) },
      });
      assert.equal(response.status, 200, `${name}: ${response.text}`);
    }
    const retired = event('evt_retired');
    const response = await send(`${url}/webhooks/stripe`, {
      body: retired,
      headers: { ...JSON_TYPE, 'stripe-signature': stripeSignature(retired, 'whsec_retired') },
    });
    assert.equal(response.status, 401);
  });

  test('github accepts a signature by either configured secret', async (t) => {
    for (const secrets of [
      ['gh-new', 'gh-old'],
      ['gh-old', 'gh-new'],
    ]) {
      const { url } = await startGatewayFor(
        t,
        `routes:\n  - provider: github\n    secret: [${secrets.join(', ')}]\n`,
      );
      for (const secret of ['gh-new', 'gh-old']) {
        const payload = `{"hook":"${secret}"}`;
        const response = await send(`${url}/webhooks/github`, {
          body: payload,
          headers: {
            ...JSON_TYPE,
            'x-github-event': 'push',
            'x-github-delivery': `${secrets[0]}-${secret}`,
            'x-hub-signature-256': await githubSignature(secret, payload),
          },
        });
        assert.equal(response.status, 200, `${secret} with ${secrets.join(', ')}`);
      }
    }
  });

  test('standard-webhooks accepts a signature list in either order', async (t) => {
    const oldSecret = standardSecret('o');
    const newSecret = standardSecret('n');
    const { url } = await startGatewayFor(
      t,
      `routes:\n  - provider: standard-webhooks\n    secret:\n      - ${newSecret}\n      - ${oldSecret}\n`,
    );
    const payload = event('evt_std');
    for (const [index, order] of [
      [newSecret, oldSecret],
      [oldSecret, newSecret],
      [oldSecret],
    ].entries()) {
      const id = `msg_rotation_${index}`;
      const time = nowSeconds();
      const list = order.map((secret) => standardSignature(secret, id, time, payload)).join(' ');
      const response = await send(`${url}/webhooks/standard-webhooks`, {
        body: payload,
        headers: {
          ...JSON_TYPE,
          'webhook-id': id,
          'webhook-timestamp': String(time),
          'webhook-signature': list,
        },
      });
      assert.equal(response.status, 200, `order ${index}: ${response.text}`);
    }
  });
});
