import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { builtinLoadOptions } from '../cli/builtins.js';
import { ConfigError, createGateway, loadConfig } from '../core/index.js';
import { rawRequest, startUpstream, writeConfig } from './helpers.js';

/** Source of a policy plugin that adds a response header, as a community package would ship it. */
function policySource(name: string, header: string, apiVersion = 1): string {
  return `export default {
  name: '${name}',
  kind: 'policy',
  apiVersion: ${apiVersion},
  optionsSchema: {
    type: 'object',
    additionalProperties: false,
    properties: { value: { type: 'string' }, signing_secret: { type: 'string', writeOnly: true } },
  },
  async register(scope, options) {
    scope.addHook('onRequest', async (request, reply) => {
      reply.header('${header}', options.value ?? 'on');
    });
  },
};
`;
}

function pluginFolder(): string {
  return mkdtempSync(join(tmpdir(), 'pactown-plugins-'));
}

async function configIssues(file: string): Promise<string[]> {
  try {
    await loadConfig(file, builtinLoadOptions({}));
  } catch (error) {
    assert.ok(error instanceof ConfigError, String(error));
    return error.issues.map((issue) => `${issue.line}:${issue.path}: ${issue.message}`);
  }
  assert.fail('config loaded without errors');
}

describe('plugin loading', () => {
  it('loads a policy from a relative path', async (t) => {
    const dir = pluginFolder();
    mkdirSync(join(dir, 'plugins'));
    writeFileSync(join(dir, 'plugins', 'stamp.mjs'), policySource('stamp', 'x-stamp'));
    const upstream = await startUpstream();
    t.after(() => upstream.close());
    const file = writeConfig(
      `plugins:\n  - ./plugins/stamp.mjs\nroutes:\n  - path: /api\n    target: ${upstream.url}\n    plugins:\n      - stamp: { value: relative }\n`,
      'gateway.yaml',
      dir,
    );
    const gateway = await createGateway(await loadConfig(file, builtinLoadOptions({})), {
      logger: false,
    });
    t.after(() => gateway.close());
    const response = await rawRequest(await gateway.listen(0, '127.0.0.1'), { path: '/api' });
    assert.equal(response.status, 200);
    assert.equal(response.headers['x-stamp'], 'relative');
  });

  it('loads a policy from an npm package folder', async (t) => {
    const dir = pluginFolder();
    const packageDir = join(dir, 'node_modules', '@acme', 'pactown-plugin-stamp');
    mkdirSync(packageDir, { recursive: true });
    writeFileSync(
      join(packageDir, 'package.json'),
      JSON.stringify({
        name: '@acme/pactown-plugin-stamp',
        type: 'module',
        exports: { '.': { import: './index.js' } },
      }),
    );
    writeFileSync(join(packageDir, 'index.js'), policySource('acme-stamp', 'x-acme'));
    const upstream = await startUpstream();
    t.after(() => upstream.close());
    const file = writeConfig(
      `plugins:\n  - '@acme/pactown-plugin-stamp'\nroutes:\n  - path: /api\n    target: ${upstream.url}\n    plugins: [acme-stamp]\n`,
      'gateway.yaml',
      dir,
    );
    const gateway = await createGateway(await loadConfig(file, builtinLoadOptions({})), {
      logger: false,
    });
    t.after(() => gateway.close());
    const response = await rawRequest(await gateway.listen(0, '127.0.0.1'), { path: '/api/x' });
    assert.equal(response.headers['x-acme'], 'on');
  });

  it('rejects a wrong apiVersion with the plugin name', async () => {
    const dir = pluginFolder();
    writeFileSync(join(dir, 'old.mjs'), policySource('old-policy', 'x-old', 0));
    const issues = await configIssues(
      writeConfig('plugins: [./old.mjs]\nroutes: []\n', 'gateway.yaml', dir),
    );
    assert.equal(issues.length, 1);
    assert.match(
      issues[0],
      /^1:plugins\[0\]: plugin "old-policy" from "\.\/old\.mjs" is invalid: "apiVersion" is 0/,
    );
  });

  it('rejects a module without a default export', async () => {
    const dir = pluginFolder();
    writeFileSync(join(dir, 'empty.mjs'), 'export const nothing = 1;\n');
    const issues = await configIssues(
      writeConfig('plugins: [./empty.mjs]\nroutes: []\n', 'gateway.yaml', dir),
    );
    assert.match(
      issues[0],
      /cannot load plugin "\.\/empty\.mjs": the module has no default export/,
    );
  });

  it('rejects a missing file and a missing package', async () => {
    const dir = pluginFolder();
    const issues = await configIssues(
      writeConfig(
        'plugins:\n  - ./nope.mjs\n  - pactown-plugin-missing\nroutes: []\n',
        'gateway.yaml',
        dir,
      ),
    );
    assert.equal(issues.length, 2);
    assert.match(issues[0], /^2:plugins\[0\]: cannot load plugin "\.\/nope\.mjs": no file at/);
    assert.match(
      issues[1],
      /^3:plugins\[1\]: cannot load plugin "pactown-plugin-missing": package "pactown-plugin-missing" is not installed/,
    );
  });

  it('rejects a name clash between two plugins', async () => {
    const dir = pluginFolder();
    writeFileSync(join(dir, 'a.mjs'), policySource('same-name', 'x-a'));
    writeFileSync(join(dir, 'b.mjs'), policySource('same-name', 'x-b'));
    const issues = await configIssues(
      writeConfig('plugins: [./a.mjs, ./b.mjs]\nroutes: []\n', 'gateway.yaml', dir),
    );
    assert.equal(issues.length, 1);
    assert.match(
      issues[0],
      /plugin "same-name" from "\.\/b\.mjs" is invalid: .*already registered from \.\/a\.mjs/,
    );
  });

  it('reports option errors with the plugin name and line', async () => {
    const dir = pluginFolder();
    writeFileSync(join(dir, 'stamp.mjs'), policySource('stamp', 'x-stamp'));
    const issues = await configIssues(
      writeConfig(
        'plugins: [./stamp.mjs]\nroutes:\n  - path: /api\n    target: http://127.0.0.1:1\n    plugins:\n      - stamp: { valu: 1 }\n',
        'gateway.yaml',
        dir,
      ),
    );
    assert.equal(issues.length, 1);
    assert.match(
      issues[0],
      /^6:routes\[0\]\.plugins\[0\]\.stamp\.valu: invalid options for "stamp": unknown key "valu"/,
    );
  });
});
