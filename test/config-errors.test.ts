import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, type ConfigIssue } from '../core/index.js';
import { loadTestConfig } from './helpers.js';

async function issuesOf(text: string, env: NodeJS.ProcessEnv = {}): Promise<ConfigIssue[]> {
  try {
    await loadTestConfig(text, env);
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected ConfigError, got ${(error as Error).stack}`);
    return error.issues;
  }
  assert.fail('config loaded without errors');
}

interface BrokenCase {
  name: string;
  yaml: string;
  line: number;
  column?: number;
  path: string;
  message: RegExp;
  env?: NodeJS.ProcessEnv;
}

const cases: BrokenCase[] = [
  {
    name: 'unknown route key with a suggestion',
    yaml: 'routes:\n  - path: /api\n    target: http://127.0.0.1:1\n    timout: 5\n',
    line: 4,
    column: 5,
    path: 'routes[0].timout',
    message: /unknown key "timout"/,
  },
  {
    name: 'unknown top-level key',
    yaml: 'rutes:\n  - path: /api\n',
    line: 1,
    column: 1,
    path: 'rutes',
    message: /unknown key "rutes"/,
  },
  {
    name: 'missing target',
    yaml: 'routes:\n  - path: /api\n    timeout: 5\n',
    line: 2,
    path: 'routes[0]',
    message: /missing required key "target"/,
  },
  {
    name: 'target without a scheme',
    yaml: 'routes:\n  - path: /api\n    target: 127.0.0.1:3000\n',
    line: 3,
    column: 13,
    path: 'routes[0].target',
    message: /expected an http:\/\/ or https:\/\/ URL.*found "127\.0\.0\.1:3000"/,
  },
  {
    name: 'path without a leading slash',
    yaml: 'routes:\n  - path: api/v1\n    target: http://127.0.0.1:1\n',
    line: 2,
    column: 11,
    path: 'routes[0].path',
    message: /expected a path starting with "\/"/,
  },
  {
    name: 'timeout that is not a duration',
    yaml: 'routes:\n  - path: /api\n    target: http://127.0.0.1:1\n    timeout: soon\n',
    line: 4,
    column: 14,
    path: 'routes[0].timeout',
    message: /expected a duration.*found "soon"/,
  },
  {
    name: 'negative retries',
    yaml: 'routes:\n  - path: /api\n    target: http://127.0.0.1:1\n    retries: -1\n',
    line: 4,
    column: 14,
    path: 'routes[0].retries',
    message: /expected a number at least 0, found -1/,
  },
  {
    name: 'duplicate route path',
    yaml: 'routes:\n  - path: /api\n    target: http://127.0.0.1:1\n  - path: /api/\n    target: http://127.0.0.1:2\n',
    line: 4,
    column: 11,
    path: 'routes[1].path',
    message: /already used by routes\[0\]/,
  },
  {
    name: 'reserved path',
    yaml: 'routes:\n  - path: /health\n    target: http://127.0.0.1:1\n',
    line: 2,
    column: 11,
    path: 'routes[0].path',
    message: /reserved for the gateway's \/health endpoint/,
  },
  {
    name: 'unset environment variable',
    yaml: 'routes:\n  - path: /api\n    target: ${BACKEND_URL}\n',
    line: 3,
    column: 13,
    path: 'routes[0].target',
    message: /environment variable BACKEND_URL is not set and has no default/,
  },
  {
    name: 'YAML syntax error',
    yaml: 'routes:\n  - path: /api\n    target: [http://127.0.0.1:1\n',
    line: 4,
    path: '',
    message: /YAML syntax/,
  },
  {
    name: 'duplicate key',
    yaml: 'routes:\n  - path: /api\n    path: /other\n    target: http://127.0.0.1:1\n',
    line: 3,
    path: '',
    message: /YAML syntax: .*unique/i,
  },
  {
    name: 'routes that is not a list',
    yaml: 'routes:\n  path: /api\n',
    line: 2,
    column: 3,
    path: 'routes',
    message: /expected array, found a map/,
  },
  {
    name: 'server port out of range',
    yaml: 'server:\n  port: 70000\nroutes: []\n',
    line: 2,
    column: 9,
    path: 'server.port',
    message: /expected a number at most 65535, found 70000/,
  },
  {
    name: 'trust_proxy as a hop count',
    yaml: 'server:\n  trust_proxy: 1\nroutes: []\n',
    line: 2,
    column: 16,
    path: 'server.trust_proxy',
    message: /expected a list of proxy addresses or CIDR ranges/,
  },
  {
    name: 'unknown plugin on a route',
    yaml: 'routes:\n  - path: /api\n    target: http://127.0.0.1:1\n    plugins:\n      - no-such-policy\n',
    line: 5,
    column: 9,
    path: 'routes[0].plugins[0]',
    message: /unknown plugin "no-such-policy"/,
  },
  {
    name: 'exclude of a plugin that is not global',
    yaml: 'routes:\n  - path: /api\n    target: http://127.0.0.1:1\n    exclude: [cors]\n',
    line: 4,
    path: 'routes[0].exclude[0]',
    message: /"cors" is not in global_plugins/,
  },
  {
    name: 'invalid MAX_RETRIES',
    yaml: 'routes:\n  - path: /api\n    target: http://127.0.0.1:1\n',
    env: { MAX_RETRIES: 'many' },
    line: 1,
    path: '',
    message: /MAX_RETRIES is "many"/,
  },
  {
    name: 'queue key without delivery: queue',
    yaml: 'routes:\n  - provider: github\n    secret: gh-secret\n    target: http://127.0.0.1:1\n    order: arrival\n',
    line: 5,
    path: 'routes[0].order',
    message: /"order" applies with delivery: queue only/,
  },
  {
    name: 'target with a password',
    yaml: 'routes:\n  - path: /api\n    target: http://admin:hunter2@127.0.0.1:1\n',
    line: 3,
    path: 'routes[0].target',
    message: /target contains user:password@, which is not sent upstream/,
  },
  {
    name: 'target with a query string',
    yaml: 'routes:\n  - path: /api\n    target: http://127.0.0.1:1/x?token=abc123\n',
    line: 3,
    path: 'routes[0].target',
    message: /without a query or fragment, .*found "http:\/\/127\.0\.0\.1:1\/x\?token=\*\*\*"/,
  },
  {
    name: 'MAX_RETRIES above the route limit',
    yaml: 'routes:\n  - path: /api\n    target: http://127.0.0.1:1\n',
    env: { MAX_RETRIES: '99' },
    line: 1,
    path: '',
    message: /MAX_RETRIES is "99", expected a whole number from 0 to 10/,
  },
];

describe('broken config files', () => {
  for (const broken of cases) {
    it(broken.name, async () => {
      const issues = await issuesOf(broken.yaml, broken.env);
      const issue = issues.find((candidate) => broken.message.test(candidate.message));
      assert.ok(issue, `no issue matches ${broken.message}; got ${JSON.stringify(issues)}`);
      assert.equal(issue.line, broken.line, `line of ${JSON.stringify(issue)}`);
      if (broken.column !== undefined) {
        assert.equal(issue.column, broken.column, `column of ${JSON.stringify(issue)}`);
      }
      assert.equal(issue.path, broken.path);
      assert.match(issue.file, /gateway\.yaml$/);
    });
  }

  it('hides secret values in messages', async () => {
    const secret = 'MyRealSecret-15';
    const webhook =
      'routes:\n  - path: /webhooks/stripe\n    provider: stripe\n    secret: whsec_test_secret_value\n    delivery: queue\n    target: http://127.0.0.1:1/events\n';
    const broken = [
      {
        yaml: `${webhook}    signing_secret: ${secret}\nstorage:\n  path: /tmp/unused.db\n`,
        path: 'routes[0].signing_secret',
      },
      {
        yaml: `admin:\n  token: ${secret}\nroutes:\n  - path: /api\n    target: http://127.0.0.1:1\n`,
        path: 'admin.token',
      },
      {
        yaml: `routes:\n  - path: /api\n    target: http://127.0.0.1:1\n    plugins:\n      - header-rules: { request: { set: { authorization: "Bearer ${secret}\\nx" } } }\n`,
        path: 'routes[0].plugins[0].header-rules.request.set.authorization',
      },
    ];
    for (const { yaml, path } of broken) {
      const issues = await issuesOf(yaml);
      const issue = issues.find((candidate) => candidate.path === path);
      assert.ok(issue, `no issue at ${path}; got ${JSON.stringify(issues)}`);
      assert.ok(!JSON.stringify(issues).includes(secret), `${path}: ${JSON.stringify(issues)}`);
    }
  });

  it('words length and number limits', async () => {
    const route = 'routes:\n  - path: /api\n    target: http://127.0.0.1:1\n';
    const tooMany = await issuesOf(`${route}    retries: 11\n`);
    assert.deepEqual(
      tooMany.map((issue) => issue.message),
      ['expected a number at most 10, found 11'],
    );
    const short = await issuesOf(`admin:\n  token: shortTok\n${route}`);
    assert.deepEqual(
      short.map((issue) => issue.message),
      ['expected at least 16 characters, found 8'],
    );
  });

  it('reports every error at once', async () => {
    const issues = await issuesOf(
      'routes:\n  - path: /a\n    target: nope\n  - path: /b\n    target: http://127.0.0.1:1\n    retries: x\n  - path: c\n    target: http://127.0.0.1:1\n',
    );
    const paths = issues.map((issue) => issue.path).sort();
    assert.deepEqual(paths, ['routes[0].target', 'routes[1].retries', 'routes[2].path']);
  });

  it('names a bad key inside a shorthand map', async () => {
    const route = 'routes:\n  - path: /api\n    target: http://127.0.0.1:1\n';
    const typo = await issuesOf(`${route}    rate_limit: { max: 10, windw: 1m }\n`);
    assert.deepEqual(
      typo.map((issue) => [issue.path, issue.message, issue.hint]),
      [['routes[0].rate_limit.windw', 'unknown key "windw"', 'did you mean "window"?']],
    );
    const missing = await issuesOf(`${route}    rate_limit: { window: 1m }\n`);
    assert.deepEqual(
      missing.map((issue) => [issue.path, issue.message]),
      [['routes[0].rate_limit', 'missing required key "max"']],
    );
    const deeper = await issuesOf(`${route}    rate_limit: { max: 10, window: soon }\n`);
    assert.deepEqual(
      deeper.map((issue) => issue.message),
      ['expected a window in seconds or with a unit, such as 60, 1m or 1h, found "soon"'],
      'only the summary of the inner alternatives remains',
    );
    const text = await issuesOf(`${route}    rate_limit: lots\n`);
    assert.match(text[0].message, /^expected a rate such as 100\/min/);
    assert.equal(text.length, 1);
  });

  it('suggests the closest key for a typo', async () => {
    const issues = await issuesOf('routes:\n  - path: /api\n    targt: http://127.0.0.1:1\n');
    const typo = issues.find((issue) => issue.path === 'routes[0].targt');
    assert.ok(typo);
    assert.equal(typo.hint, 'did you mean "target"?');
  });

  it('names the path and pactown init for a missing file', async () => {
    const { loadConfig } = await import('../core/index.js');
    await assert.rejects(loadConfig('/nonexistent/routes.yaml'), (error: ConfigError) => {
      assert.match(error.message, /\/nonexistent\/routes\.yaml/);
      assert.match(error.message, /pactown init/);
      return true;
    });
  });
});

describe('config loading', () => {
  it('loads the original service format', async () => {
    const loaded = await loadTestConfig(
      'routes:\n  - path: /api/v1/*\n    target: http://127.0.0.1:3000\n    timeout: 10\n    retries: 1\n',
    );
    const [route] = loaded.config.routes;
    assert.equal(route.path, '/api/v1/*');
    assert.equal(route.kind, 'proxy');
    assert.equal(route.raw.timeout, 10);
  });

  it('reads defaults from the environment', async () => {
    const loaded = await loadTestConfig(
      'routes:\n  - path: /api\n    target: ${UPSTREAM:-http://127.0.0.1:9}\n',
      { DEFAULT_TIMEOUT: '7', MAX_RETRIES: '1', PORT: '9999' },
    );
    assert.equal(loaded.config.defaultTimeout, 7000);
    assert.equal(loaded.config.defaultRetries, 1);
    assert.equal(loaded.config.server.port, 9999);
    assert.equal(loaded.config.routes[0].raw.target, 'http://127.0.0.1:9');
  });

  it('keeps a literal ${ written as $${', async () => {
    const loaded = await loadTestConfig(
      'routes:\n  - path: /api\n    target: http://127.0.0.1:9\n    description: cost $${PRICE}\n',
    );
    assert.equal(loaded.config.routes[0].raw.description, 'cost ${PRICE}');
  });
});
