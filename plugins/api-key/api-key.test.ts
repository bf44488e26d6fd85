import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { ConfigError } from '../../core/index.js';
import { loadTestConfig, startGatewayFor, startUpstream, writeConfig } from '../../test/helpers.js';
import { echoedHeaders, echoedUrl, httpClient } from '../../test/policies-support.js';

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

async function startKeyGateway(t: import('node:test').TestContext, auth: string, env = {}) {
  const upstream = await startUpstream();
  t.after(() => upstream.close());
  const file = writeConfig('');
  const keysFile = join(dirname(file), 'api-keys.yaml');
  writeFileSync(
    keysFile,
    `billing: key-billing-123\nreports: sha256:${sha256('key-reports-456')}\n`,
  );
  const { url } = await startGatewayFor(
    t,
    `routes:\n  - path: /api/*\n    target: ${upstream.url}\n    auth: ${auth.replace('KEYS_FILE', keysFile)}\n`,
    env,
  );
  return { url, upstream, send: httpClient(t) };
}

test('api key from the config, a file or env', async (t) => {
  const { url, send } = await startKeyGateway(
    t,
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a YAML ${...} reference
    '{ scheme: api_key, keys: { ci: "${CI_KEY}" }, keys_file: KEYS_FILE, keys_env_prefix: PARTNER_KEY_ }',
    { CI_KEY: 'key-ci-789', PARTNER_KEY_ACME: 'key-acme-000' },
  );
  for (const key of ['key-ci-789', 'key-billing-123', 'key-reports-456', 'key-acme-000']) {
    const response = await send(`${url}/api/a`, { headers: { 'x-api-key': key } });
    assert.equal(response.status, 200, `${key} must be accepted`);
  }
  const digestItself = await send(`${url}/api/a`, {
    headers: { 'x-api-key': `sha256:${sha256('key-reports-456')}` },
  });
  assert.equal(digestItself.status, 401, 'a stored digest is not itself a key');
});

test('api key rejections', async (t) => {
  const { url, send, upstream } = await startKeyGateway(
    t,
    '{ scheme: api_key, keys_file: KEYS_FILE, allowed_keys: [billing] }',
  );
  const missing = await send(`${url}/api/a`);
  assert.equal(missing.status, 401);
  assert.equal(missing.json().code, 'PACTOWN_ERR_AUTH_MISSING');
  assert.equal(missing.headers['www-authenticate'], 'ApiKey header="x-api-key"');
  const wrong = await send(`${url}/api/a`, { headers: { 'x-api-key': 'key-billing-124' } });
  assert.equal(wrong.status, 401);
  assert.equal(wrong.json().code, 'PACTOWN_ERR_AUTH_INVALID');
  const forbidden = await send(`${url}/api/a`, { headers: { 'x-api-key': 'key-reports-456' } });
  assert.equal(forbidden.status, 403);
  assert.equal(forbidden.json().code, 'PACTOWN_ERR_AUTH_FORBIDDEN');
  assert.equal(forbidden.json().error, 'API key "reports" is not allowed on this route');
  assert.equal(upstream.requests.length, 0);
});

test('api key never reaches the upstream', async (t) => {
  const { url, send } = await startKeyGateway(
    t,
    '{ scheme: api_key, header: X-Partner-Key, query: key, keys_file: KEYS_FILE, forward_claims: { key_name: x-key-name } }',
  );
  const byHeader = await send(`${url}/api/a`, { headers: { 'x-partner-key': 'key-billing-123' } });
  assert.equal(byHeader.status, 200);
  assert.equal(echoedHeaders(byHeader)['x-partner-key'], undefined);
  assert.equal(echoedHeaders(byHeader)['x-key-name'], 'billing', 'the key name is forwarded');
  const byQuery = await send(`${url}/api/a?page=1&key=key-billing-123`);
  assert.equal(byQuery.status, 200);
  assert.equal(echoedUrl(byQuery), '/a?page=1');
});

test('api key names count rate limits', async (t) => {
  const upstream = await startUpstream();
  t.after(() => upstream.close());
  const { url } = await startGatewayFor(
    t,
    `routes:
  - path: /api/*
    target: ${upstream.url}
    auth: { scheme: api_key, keys: { one: key-one, two: key-two } }
    rate_limit: { max: 2, window: 1m, key: api_key }
`,
  );
  const send = httpClient(t);
  const statuses = async (key: string) => {
    const codes: number[] = [];
    for (let attempt = 0; attempt < 3; attempt++) {
      codes.push((await send(`${url}/api/a`, { headers: { 'x-api-key': key } })).status);
    }
    return codes;
  };
  assert.deepEqual(await statuses('key-one'), [200, 200, 429]);
  assert.deepEqual(await statuses('key-two'), [200, 200, 429], 'each key has its own bucket');
});

test('api key without keys is a config error', async () => {
  await assert.rejects(
    loadTestConfig(
      'routes:\n  - path: /api/*\n    target: http://127.0.0.1:9\n    auth: { scheme: api_key, keys_env_prefix: NOT_SET_ }\n',
    ),
    (error: unknown) => {
      assert.ok(error instanceof ConfigError);
      assert.match(error.issues[0].message, /no API keys are configured/);
      assert.equal(error.issues[0].line, 4);
      return true;
    },
  );
  await assert.rejects(
    loadTestConfig(
      'routes:\n  - path: /api/*\n    target: http://127.0.0.1:9\n    auth: { scheme: api_key, keys_file: ./missing.yaml }\n',
    ),
    /cannot read .*missing\.yaml/,
  );
});
