import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { SignJWT } from 'jose';
import { ConfigError, type ConfigIssue } from '../../core/index.js';
import { loadTestConfig, startGatewayFor, startUpstream, writeConfig } from '../../test/helpers.js';
import { echoedHeaders, httpClient } from '../../test/policies-support.js';

async function issuesOf(text: string, env: NodeJS.ProcessEnv = {}): Promise<ConfigIssue[]> {
  try {
    await loadTestConfig(text, env);
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${error}`);
    return error.issues;
  }
  assert.fail('the config must be rejected');
}

test('auth unknown scheme is a config error', async () => {
  const issues = await issuesOf(
    'routes:\n  - path: /api/*\n    target: http://127.0.0.1:9\n    auth: oauth\n',
  );
  assert.equal(issues.length, 1);
  assert.equal(issues[0].message, 'unknown auth scheme "oauth"');
  assert.equal(issues[0].line, 4);
  assert.equal(issues[0].column, 11);
  assert.match(issues[0].hint ?? '', /known schemes: jwt, api_key, basic/);
});

test('auth without a scheme is a config error', async () => {
  const issues = await issuesOf(
    'routes:\n  - path: /api/*\n    target: http://127.0.0.1:9\n    plugins: [auth]\n',
  );
  assert.equal(issues.length, 1);
  assert.match(issues[0].message, /"auth" needs options here/);
  assert.match(issues[0].hint ?? '', /expected an auth scheme name such as jwt/);
  assert.equal(issues[0].line, 4);
  const wrongOption = await issuesOf(
    'routes:\n  - path: /api/*\n    target: http://127.0.0.1:9\n    auth: { scheme: api_key, keys: { a: b }, headers: x-key }\n',
  );
  assert.match(wrongOption[0].message, /unknown key "headers"/);
  assert.equal(wrongOption[0].hint, 'did you mean "header"?');
});

test('auth in a plugins list', async (t) => {
  const upstream = await startUpstream();
  t.after(() => upstream.close());
  const secret = 'plugins-list-secret-of-32-bytes-or-more';
  const { url } = await startGatewayFor(
    t,
    `routes:
  - path: /api/*
    target: ${upstream.url}
    plugins:
      - auth: { scheme: jwt, secret: "\${TOKEN_SECRET}", forward_claims: { sub: x-user } }
`,
    { TOKEN_SECRET: secret },
  );
  const send = httpClient(t);
  const token = await new SignJWT({ sub: 'listed' })
    .setProtectedHeader({ alg: 'HS256' })
    .setExpirationTime('1h')
    .sign(new TextEncoder().encode(secret));
  const response = await send(`${url}/api/a`, { headers: { authorization: `Bearer ${token}` } });
  assert.equal(response.status, 200);
  assert.equal(echoedHeaders(response)['x-user'], 'listed');
  const routes = await send(`${url}/routes`);
  const plugins = routes.json<{ routes: { plugins: { name: string; options: unknown }[] }[] }>()
    .routes[0].plugins;
  assert.equal(plugins[0].name, 'auth');
  assert.equal(JSON.stringify(plugins).includes(secret), false, '/routes must not show the secret');
});

test('auth scheme resolving to nothing', async (t) => {
  const upstream = await startUpstream();
  t.after(() => upstream.close());
  const file = writeConfig('');
  const module = join(dirname(file), 'broken-scheme.mjs');
  // The hook reads `ok` of the result after the promise settles, so this throws in a callback.
  writeFileSync(
    module,
    `export default {
  name: 'broken', kind: 'auth-scheme', apiVersion: 1,
  create: () => ({ credentialHeaders: [], authenticate: async () => null }),
};
`,
  );
  const { url } = await startGatewayFor(
    t,
    `plugins: [${module}]\nroutes:\n  - path: /api/*\n    target: ${upstream.url}\n    auth: { scheme: broken }\n`,
  );
  const send = httpClient(t);
  const first = await send(`${url}/api/a`);
  assert.equal(first.status, 500);
  const second = await send(`${url}/api/a`);
  assert.equal(second.status, 500, 'the gateway still answers after the failure');
  const health = await send(`${url}/health`);
  assert.equal(health.status, 200);
});

test('auth with a community scheme', async (t) => {
  const upstream = await startUpstream();
  t.after(() => upstream.close());
  const file = writeConfig('');
  const module = join(dirname(file), 'header-scheme.mjs');
  writeFileSync(
    module,
    `export default {
  name: 'shared-header', kind: 'auth-scheme', apiVersion: 1,
  optionsSchema: { type: 'object', required: ['value'], properties: { value: { type: 'string' } }, additionalProperties: false },
  create: (options) => ({
    credentialHeaders: ['x-shared'],
    authenticate: async (request) => request.headers['x-shared'] === options.value
      ? { ok: true, principal: { id: 'shared', scheme: 'shared-header' } }
      : { ok: false, status: 401, code: 'PACTOWN_ERR_AUTH_INVALID', message: 'wrong shared header' },
  }),
};
`,
  );
  const { url } = await startGatewayFor(
    t,
    `plugins: [${module}]
routes:
  - path: /api/*
    target: ${upstream.url}
    auth: { scheme: shared-header, value: open-sesame }
`,
  );
  const send = httpClient(t);
  const accepted = await send(`${url}/api/a`, { headers: { 'x-shared': 'open-sesame' } });
  assert.equal(accepted.status, 200);
  assert.equal(echoedHeaders(accepted)['x-shared'], undefined, 'its credential header is removed');
  const rejected = await send(`${url}/api/a`, { headers: { 'x-shared': 'guess' } });
  assert.equal(rejected.status, 401);
  const missingValue = await issuesOf(
    `plugins: [${module}]\nroutes:\n  - path: /api/*\n    target: http://127.0.0.1:9\n    auth: { scheme: shared-header }\n`,
  );
  assert.match(missingValue[0].message, /missing required key "value"/);
});
