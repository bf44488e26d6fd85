import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError, type ConfigIssue } from '../core/index.js';
import { loadTestConfig } from './helpers.js';

async function issuesOf(text: string, env: NodeJS.ProcessEnv = {}): Promise<ConfigIssue[]> {
  try {
    await loadTestConfig(text, env);
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${error}`);
    return error.issues;
  }
  assert.fail('the config must be rejected');
}

const ROUTE = 'routes:\n  - path: /api/*\n    target: http://127.0.0.1:9\n';

test('policy unknown plugin names its line', async () => {
  const issues = await issuesOf(
    `${ROUTE}    plugins:\n      - cors\n      - rate-limiter: { max: 5 }\n`,
  );
  assert.equal(issues.length, 1);
  assert.equal(issues[0].message, 'unknown plugin "rate-limiter"');
  assert.equal(issues[0].line, 6);
  assert.equal(issues[0].path, 'routes[0].plugins[1]');
  assert.match(issues[0].hint ?? '', /known policies: .*rate-limit/);
});

test('policy of the wrong kind', async () => {
  const issues = await issuesOf(`${ROUTE}    plugins: [jwt]\n`);
  assert.equal(issues[0].message, '"jwt" is an auth-scheme plugin, not a policy');
  assert.equal(issues[0].line, 4);
  const global = await issuesOf(`global_plugins: [memory]\n${ROUTE}`);
  assert.match(global[0].message, /"memory" is a (limiter|cache)-store plugin, not a policy/);
  assert.equal(global[0].path, 'global_plugins[0]');
});

test('policy enabled twice', async () => {
  const both = await issuesOf(
    `${ROUTE}    rate_limit: 10/s\n    plugins:\n      - rate-limit: 5/s\n`,
  );
  assert.equal(both.length, 1);
  assert.equal(both[0].message, 'policy "rate-limit" is enabled twice on this route');
  assert.equal(both[0].line, 2);
  const global = await issuesOf(`global_plugins: [cors]\n${ROUTE}    plugins: [cors]\n`);
  assert.equal(global[0].message, 'policy "cors" is enabled twice on this route');
});

test('policy exclude must name a global', async () => {
  const issues = await issuesOf(
    `global_plugins: [request-id]\n${ROUTE}    exclude: [request-id, cors]\n`,
  );
  assert.equal(issues.length, 1);
  assert.equal(issues[0].message, '"cors" is not in global_plugins, so it cannot be excluded');
  assert.equal(issues[0].line, 5);
  assert.equal(issues[0].path, 'routes[0].exclude[1]');
});

test('policy shorthand values are checked', async () => {
  const cases: [string, RegExp, number][] = [
    ['    rate_limit: 100/fortnight\n', /expected a rate such as 100\/min/, 4],
    ['    rate_limit: 0/min\n', /a limit of 0 requests rejects every request/, 4],
    ['    cache: soon\n', /expected a TTL such as 60s/, 4],
    ['    auth: 42\n', /unknown auth scheme "42"/, 4],
    ['    auth: [jwt]\n', /expected an auth scheme name such as jwt/, 4],
  ];
  for (const [line, message, row] of cases) {
    const issues = await issuesOf(`${ROUTE}${line}`, { JWT_SECRET: 'x'.repeat(32) });
    assert.match(issues[0].message, message, line);
    assert.equal(issues[0].line, row, line);
  }
});

test('policy original shorthands load unchanged', async () => {
  const loaded = await loadTestConfig(
    `routes:
  - path: /api/v1/*
    target: http://127.0.0.1:9
    auth: jwt
    rate_limit: 100/min
    cache: 60s
`,
    { JWT_SECRET: 'original-service-secret' },
  );
  const route = loaded.config.routes[0];
  assert.deepEqual(
    route.policies.map((ref) => ref.name),
    ['auth', 'rate-limit', 'cache'],
  );
  assert.deepEqual(route.policies[1].options, {
    max: 100,
    window: 60_000,
    key: 'ip',
    on_store_error: 'allow',
  });
  assert.equal((route.policies[2].options as { ttl: number }).ttl, 60_000);
  assert.equal((route.policies[0].options as { scheme: string }).scheme, 'jwt');
});
