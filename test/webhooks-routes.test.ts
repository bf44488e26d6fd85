import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { definePlugin, loadConfigText, PLUGIN_API_VERSION } from '../core/index.js';
import { startGatewayFor } from './helpers.js';
import { send } from './webhooks-support.js';

describe('webhook routes in /routes', () => {
  test('hides secrets and tokens', async (t) => {
    const { url } = await startGatewayFor(
      t,
      `
server:
  trust_proxy: [127.0.0.1/32]
routes:
  - provider: stripe
    secret: [whsec_visible_new, "\${OLD_STRIPE_SECRET}"]
    target: http://127.0.0.1:9/stripe
  - provider: inpost
    mode: shipx
    token: url-token-value
  - provider: github
`,
      { OLD_STRIPE_SECRET: 'whsec_visible_old', GITHUB_WEBHOOK_SECRET: 'github-env-value' },
    );
    const response = await send(`${url}/routes`, { method: 'GET' });
    assert.equal(response.status, 200);
    for (const value of [
      'whsec_visible_new',
      'whsec_visible_old',
      'url-token-value',
      'github-env-value',
    ]) {
      assert.doesNotMatch(response.text, new RegExp(value), `${value} appears in /routes`);
    }
    const [stripe, inpost, github] = response.json.routes;
    assert.equal(stripe.secret, '***');
    assert.equal(stripe.kind, 'webhook');
    assert.equal(stripe.path, '/webhooks/stripe');
    assert.equal(stripe.provider, 'stripe');
    assert.equal(stripe.delivery, 'sync');
    assert.equal(stripe.target, 'http://127.0.0.1:9/stripe');
    assert.equal(inpost.token, '***');
    assert.equal(inpost.mode, 'shipx');
    assert.equal(github.path, '/webhooks/github');
    assert.equal(github.secret, undefined);
  });
});

describe('webhook route description', () => {
  test('hides the writeOnly keys of a provider', async () => {
    const provider = definePlugin({
      name: 'keyed',
      kind: 'webhook-provider',
      apiVersion: PLUGIN_API_VERSION,
      optionsSchema: {
        type: 'object',
        properties: { hmac_key: { type: 'string', writeOnly: true }, region: { type: 'string' } },
      },
      requiresSecret: false,
      create: () => ({ verify: () => ({ ok: true }) }),
    });
    const loaded = await loadConfigText(
      'routes:\n  - provider: keyed\n    hmac_key: very-private\n    region: eu\n',
      '/tmp/pactown-describe.yaml',
      { builtins: [provider], env: {} },
    );
    const kind = loaded.registry.routeKind('webhook');
    const described = kind?.describe?.(loaded.config.routes[0]);
    assert.equal(described?.hmac_key, '***');
    assert.equal(described?.region, 'eu');
    assert.equal(described?.delivery, 'sync');
  });
});
