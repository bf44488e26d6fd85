import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { startGatewayFor, startUpstream, writeConfig } from './helpers.js';
import { echoedHeaders, httpClient } from './policies-support.js';

/**
 * Writes a module of probe policies. Each appends `name[auth=..,limit=..]` to the
 * `x-policy-order` request header: whether the auth policy already forwarded its claim header,
 * and whether the rate limit already set its response headers.
 */
function writeProbes(): string {
  const file = join(dirname(writeConfig('')), 'probes.mjs');
  const probe = (name: string) => `{
    name: '${name}', kind: 'policy', apiVersion: 1,
    register(scope) {
      scope.addHook('onRequest', async (request, reply) => {
        const auth = request.headers['x-key-name'] ? 'yes' : 'no';
        const limit = reply.getHeader('x-ratelimit-limit') === undefined ? 'no' : 'yes';
        const entry = '${name}[auth=' + auth + ',limit=' + limit + ']';
        const seen = request.headers['x-policy-order'];
        request.headers['x-policy-order'] = seen ? seen + ', ' + entry : entry;
      });
    },
  }`;
  writeFileSync(
    file,
    `export default [${['probe-global', 'probe-a', 'probe-b'].map(probe).join(', ')}];\n`,
  );
  return file;
}

const CONFIG = (probes: string, upstream: string) => `plugins: [${probes}]
global_plugins:
  - probe-global
  - request-id
routes:
  - path: /api/*
    target: ${upstream}
    # No per-user entries: a request with a principal bypasses the cache, which shows the order.
    cache: { ttl: 60s, user_key: [] }
    rate_limit: 100/min
    auth: { scheme: api_key, keys: { partner: key-1 }, forward_claims: { key_name: x-key-name } }
    plugins:
      - probe-b
      - header-rules: { request: { add: { x-policy-order: header-rules } } }
      - probe-a
`;

test('policies run in config order', async (t) => {
  const upstream = await startUpstream();
  t.after(() => upstream.close());
  const { url } = await startGatewayFor(t, CONFIG(writeProbes(), upstream.url));
  const send = httpClient(t);
  const response = await send(`${url}/api/a`, {
    headers: { 'x-api-key': 'key-1', 'cache-control': 'no-cache', 'x-policy-order': 'client' },
  });
  assert.equal(response.status, 200);
  const seen = echoedHeaders(response);
  assert.equal(
    seen['x-policy-order'],
    [
      'client',
      'probe-global[auth=no,limit=no]',
      'probe-b[auth=yes,limit=yes]',
      'header-rules',
      'probe-a[auth=yes,limit=yes]',
    ].join(', '),
  );
  assert.equal(seen['x-key-name'], 'partner');
  assert.match(String(seen['x-request-id']), /^[0-9a-f-]{36}$/);
  assert.equal(seen['x-api-key'], undefined);
  assert.equal(response.headers['x-cache'], 'BYPASS', 'the cache ran after auth set a principal');
});

test('routes endpoint lists policies in run order', async (t) => {
  const upstream = await startUpstream();
  t.after(() => upstream.close());
  const { url } = await startGatewayFor(t, CONFIG(writeProbes(), upstream.url));
  const send = httpClient(t);
  const body = (await send(`${url}/routes`)).json<{
    routes: { path: string; plugins: { name: string; global?: boolean; options: unknown }[] }[];
  }>();
  const plugins = body.routes[0].plugins;
  assert.deepEqual(
    plugins.map((plugin) => plugin.name),
    [
      'probe-global',
      'request-id',
      'auth',
      'rate-limit',
      'cache',
      'probe-b',
      'header-rules',
      'probe-a',
    ],
    'globals first, then shorthands as auth, rate limit, cache, then plugins: in order',
  );
  assert.deepEqual(
    plugins.map((plugin) => plugin.global === true),
    [true, true, false, false, false, false, false, false],
  );
  const auth = plugins[2].options as { scheme: string; keys: unknown };
  assert.equal(auth.keys, '***', 'keys are redacted');
  assert.equal(auth.scheme, 'api_key', 'scheme options sit beside scheme, as written');
  assert.equal('cache' in body.routes[0], false, 'shorthand keys show as plugins only');
});
