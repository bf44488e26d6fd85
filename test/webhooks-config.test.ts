import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { builtinLoadOptions } from '../cli/builtins.js';
import {
  ConfigError,
  type ConfigIssue,
  type DeliveryMode,
  loadConfig,
  type PluginRegistry,
} from '../core/index.js';
import { loadTestConfig, writeConfig } from './helpers.js';

/** Loads a config that must fail and returns its issues. */
async function issuesOf(text: string, env: NodeJS.ProcessEnv = {}): Promise<ConfigIssue[]> {
  try {
    await loadTestConfig(text, env);
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${String(error)}`);
    return error.issues;
  }
  assert.fail('the config loaded, but it should have been rejected');
}

function findIssue(issues: ConfigIssue[], path: string): ConfigIssue {
  const found = issues.find((issue) => issue.path === path);
  assert.ok(found, `no issue at ${path}; issues: ${JSON.stringify(issues)}`);
  return found;
}

describe('webhook route config', () => {
  test('defaults the path to /webhooks/<provider>', async () => {
    const loaded = await loadTestConfig('routes:\n  - provider: stripe\n    secret: whsec_x\n');
    const [route] = loaded.config.routes;
    assert.equal(route.path, '/webhooks/stripe');
    assert.equal(route.kind, 'webhook');
  });

  test('keeps an explicit path', async () => {
    const loaded = await loadTestConfig(
      'routes:\n  - provider: github\n    path: /hooks/gh\n    secret: s\n',
    );
    assert.equal(loaded.config.routes[0].path, '/hooks/gh');
  });

  test('accepts every documented key', async () => {
    const loaded = await loadTestConfig(`
routes:
  - provider: stripe
    path: /webhooks/stripe
    secret: [whsec_new, whsec_old]
    tolerance: 120
    target: http://127.0.0.1:9/events?source=stripe
    body_limit: 2mb
    delivery: sync
    dedupe_window: 24h
    timeout: 5s
    description: payments
`);
    assert.equal(loaded.config.routes.length, 1);
  });

  test('rejects an unknown key with its location', async () => {
    const issues = await issuesOf('routes:\n  - provider: stripe\n    secret: s\n    secert: t\n');
    const issue = findIssue(issues, 'routes[0].secert');
    assert.match(issue.message, /unknown key "secert"/);
    assert.equal(issue.line, 4);
  });

  test('rejects a key that only another provider accepts', async () => {
    const issues = await issuesOf(
      'routes:\n  - provider: stripe\n    secret: s\n    mode: shipx\n',
    );
    assert.match(findIssue(issues, 'routes[0].mode').message, /unknown key "mode"/);
  });

  test('rejects an unknown provider', async () => {
    const issues = await issuesOf('routes:\n  - provider: strype\n    secret: s\n');
    const issue = findIssue(issues, 'routes[0].provider');
    assert.match(issue.message, /expected one of "stripe", "github"/);
  });

  test('rejects an unknown delivery mode', async () => {
    const issues = await issuesOf(
      'routes:\n  - provider: stripe\n    secret: s\n    delivery: later\n',
    );
    assert.match(findIssue(issues, 'routes[0].delivery').message, /expected one of .*"sync"/);
  });

  test('rejects a target that is not a URL', async () => {
    const issues = await issuesOf(
      'routes:\n  - provider: stripe\n    secret: s\n    target: backend\n',
    );
    assert.match(findIssue(issues, 'routes[0].target').message, /http:\/\/ or https:\/\//);
  });

  test('rejects a route without a secret', async () => {
    const issues = await issuesOf('routes:\n  - provider: stripe\n');
    const issue = findIssue(issues, 'routes[0]');
    assert.match(issue.message, /needs a secret/);
    assert.match(issue.message, /STRIPE_WEBHOOK_SECRET/);
  });

  test('rejects a secret that resolves to an empty string', async () => {
    const issues = await issuesOf(`routes:\n  - provider: github\n    secret: \${GH_SECRET}\n`, {
      GH_SECRET: '',
    });
    assert.match(findIssue(issues, 'routes[0].secret').message, /empty string/);
  });

  test('rejects a secret of only whitespace', async () => {
    const issues = await issuesOf('routes:\n  - provider: github\n    secret: "   "\n');
    assert.match(findIssue(issues, 'routes[0].secret').message, /only whitespace/);
  });

  test('rejects an empty default secret', async () => {
    const issues = await issuesOf(`routes:\n  - provider: github\n    secret: \${GH_SECRET:-}\n`);
    assert.match(findIssue(issues, 'routes[0].secret').message, /empty string/);
  });

  test('rejects an empty entry of a secret list', async () => {
    const issues = await issuesOf(
      `routes:\n  - provider: github\n    secret: [one, "\${OLD_SECRET}"]\n`,
      { OLD_SECRET: '' },
    );
    assert.match(findIssue(issues, 'routes[0].secret[1]').message, /empty string/);
  });

  test('reads the secret from the environment variables of the original service', async () => {
    const cases: [string, string][] = [
      ['stripe', 'STRIPE_WEBHOOK_SECRET'],
      ['inpost', 'INPOST_WEBHOOK_SECRET'],
      ['allegro', 'ALLEGRO_WEBHOOK_SECRET'],
      ['github', 'GITHUB_WEBHOOK_SECRET'],
    ];
    for (const [provider, variable] of cases) {
      const text = `routes:\n  - provider: ${provider}\n`;
      const loaded = await loadTestConfig(text, { [variable]: 'from-env' });
      assert.equal(loaded.config.routes[0].path, `/webhooks/${provider}`);
      const issues = await issuesOf(text, { [variable]: '' });
      assert.match(findIssue(issues, 'routes[0]').message, new RegExp(variable));
    }
  });

  test('rejects a standard-webhooks secret that is not base64', async () => {
    const issues = await issuesOf(
      'routes:\n  - provider: standard-webhooks\n    secret: "whsec_not base64!"\n',
    );
    const issue = findIssue(issues, 'routes[0].secret');
    assert.match(issue.message, /invalid secret/);
    assert.doesNotMatch(issue.message, /not base64!/);
  });

  test('accepts inpost shipx without a secret and rejects hmac without one', async () => {
    const shipx = await loadTestConfig('routes:\n  - provider: inpost\n    mode: shipx\n', {
      INPOST_WEBHOOK_SECRET: 'unused',
    });
    assert.equal(shipx.config.routes.length, 1);
    const issues = await issuesOf('routes:\n  - provider: inpost\n    mode: hmac\n');
    assert.match(findIssue(issues, 'routes[0]').message, /needs a secret/);
  });

  test('reports inpost keys of the wrong mode and bad ranges', async () => {
    const issues = await issuesOf(`
routes:
  - provider: inpost
    mode: shipx
    allow: [91.216.25.0/24, 91.216.25.0/40]
    require_timestamp: true
`);
    assert.match(findIssue(issues, 'routes[0].allow[1]').message, /CIDR/);
    assert.match(findIssue(issues, 'routes[0].require_timestamp').message, /mode: hmac only/);
  });

  test('rejects a zero tolerance and a wildcard path', async () => {
    const tolerance = await issuesOf(
      'routes:\n  - provider: stripe\n    secret: s\n    tolerance: 0\n',
    );
    assert.match(findIssue(tolerance, 'routes[0].tolerance').message, /at least 1 s/);
    const path = await issuesOf(
      'routes:\n  - provider: stripe\n    secret: s\n    path: /hooks/*\n',
    );
    assert.match(findIssue(path, 'routes[0].path').message, /exact path/);
  });

  test('rejects two routes on the same default path', async () => {
    const issues = await issuesOf(
      'routes:\n  - provider: stripe\n    secret: a\n  - provider: stripe\n    secret: b\n',
    );
    assert.match(findIssue(issues, 'routes[1].path').message, /already used/);
  });

  test('takes route keys from the delivery mode', async () => {
    const later: DeliveryMode = {
      name: 'later',
      routeProperties: { order: { enum: ['fifo', 'none'] } },
      async prepare() {
        return async () => ({ status: 202, body: { status: 'queued' } });
      },
    };
    const load = (text: string) =>
      loadConfig(writeConfig(text), {
        ...builtinLoadOptions({}),
        setupRegistry: (registry: PluginRegistry) => registry.registerDeliveryMode(later),
      });
    const base = 'routes:\n  - provider: stripe\n    secret: s\n';
    const loaded = await load(`${base}    delivery: later\n    order: fifo\n`);
    assert.equal(loaded.config.routes[0].raw.order, 'fifo');
    await assert.rejects(load(`${base}    order: fifo\n`), (error: ConfigError) => {
      assert.match(
        findIssue(error.issues, 'routes[0].order').message,
        /"order" applies with delivery: queue or later only/,
      );
      return true;
    });
    await assert.rejects(
      load(`${base}    delivery: later\n    timeout: 5\n`),
      (error: ConfigError) => {
        assert.match(
          findIssue(error.issues, 'routes[0].timeout').message,
          /"timeout" applies with delivery: queue or sync only/,
        );
        return true;
      },
    );
  });
});
