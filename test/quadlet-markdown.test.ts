import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import {
  DeployError,
  extractFencedConfig,
  isConfigInfo,
  readDeploySource,
} from '../cli/quadlet/index.js';
import { checkSourceConfig } from '../cli/quadlet/validate.js';
import { ConfigError } from '../core/index.js';

const FIXTURES = join(
  dirname(fileURLToPath(import.meta.url)),
  '..',
  '..',
  'test',
  'fixtures',
  'quadlet',
);

test('markdown fixture yields the routes.yaml block', () => {
  const source = readDeploySource(join(FIXTURES, 'README.md'));
  assert.equal(source.fromMarkdown, true);
  assert.match(source.yaml, /^server:\n {2}port: 9090\n/);
  assert.match(source.yaml, /target: \$\{API_UPSTREAM\}/);
  assert.doesNotMatch(
    source.yaml,
    /\/wrong/,
    'the block nested in a ````markdown fence is content',
  );
  assert.doesNotMatch(source.yaml, /routes: \[\]/, 'a plain ```yaml block is not the config');
  const lines = readFileSync(join(FIXTURES, 'README.md'), 'utf8').split('\n');
  assert.equal(lines[source.firstLine - 1], 'server:');
  assert.equal(lines[source.firstLine - 2], '```yaml routes.yaml');
});

test('yaml fixture is read whole', () => {
  const source = readDeploySource(join(FIXTURES, 'gateway.yaml'));
  assert.equal(source.fromMarkdown, false);
  assert.equal(source.firstLine, 1);
  assert.equal(source.yaml, readFileSync(join(FIXTURES, 'gateway.yaml'), 'utf8'));
});

test('info string variants mark the config', () => {
  for (const info of [
    'yaml routes.yaml',
    'yml routes.yaml',
    'YAML routes.yaml',
    'yaml title="routes.yaml"',
    'yaml file=routes.yaml',
    "yaml filename='routes.yaml'",
  ]) {
    assert.equal(isConfigInfo(info), true, info);
  }
  for (const info of [
    'yaml',
    'json routes.yaml',
    'yaml routes.yml',
    'yaml other/routes.yaml',
    '',
  ]) {
    assert.equal(isConfigInfo(info), false, info);
  }
});

test('tilde fence and indented fence', () => {
  const tilde = extractFencedConfig('intro\n~~~yaml routes.yaml\nroutes: []\n~~~\n', 'x.md');
  assert.equal(tilde.text, 'routes: []\n');
  assert.equal(tilde.line, 3);
  const indented = extractFencedConfig(
    '  ```yaml routes.yaml\n  routes:\n    - path: /a\n  ```\n',
    'x.md',
  );
  assert.equal(indented.text, 'routes:\n  - path: /a\n');
});

test('closing fence must be as long as the opening', () => {
  const block = extractFencedConfig('````yaml routes.yaml\na: 1\n```\nb: 2\n````\n', 'x.md');
  assert.equal(block.text, 'a: 1\n```\nb: 2\n');
});

test('missing block is an error naming the marker', () => {
  assert.throws(
    () => extractFencedConfig('# Title\n\n```yaml\nroutes: []\n```\n', 'README.md'),
    (error: Error) =>
      error instanceof DeployError &&
      /fenced ```yaml routes\.yaml block not found/.test(error.message),
  );
});

test('two blocks are an error with their lines', () => {
  const markdown = '```yaml routes.yaml\na: 1\n```\n\n```yaml routes.yaml\nb: 2\n```\n';
  assert.throws(
    () => extractFencedConfig(markdown, 'README.md'),
    (error: Error) =>
      error instanceof DeployError &&
      /2 ```yaml routes\.yaml blocks found \(lines 1, 5\)/.test(error.message),
  );
});

test('unclosed and empty blocks are errors', () => {
  assert.throws(
    () => extractFencedConfig('text\n```yaml routes.yaml\nroutes: []\n', 'README.md'),
    (error: Error) =>
      error instanceof DeployError && /README\.md:2: .* never closed/.test(error.message),
  );
  assert.throws(
    () => extractFencedConfig('```yaml routes.yaml\n\n```\n', 'README.md'),
    (error: Error) => error instanceof DeployError && /is empty/.test(error.message),
  );
});

test('config errors carry markdown line numbers', async () => {
  const markdown =
    '# Service\n\nSome text.\n\n```yaml routes.yaml\nroutes:\n  - path: no-slash\n    target: http://127.0.0.1:3000\n```\n';
  const file = join(FIXTURES, 'virtual-README.md');
  const block = extractFencedConfig(markdown, file);
  const source = { file, yaml: block.text, firstLine: block.line, fromMarkdown: true };
  await assert.rejects(checkSourceConfig(source, {}), (error: Error) => {
    assert.ok(error instanceof ConfigError);
    const issue = error.issues.find((item) => item.path === 'routes[0].path');
    assert.ok(issue, error.message);
    assert.equal(issue.line, 7);
    return true;
  });
});

test('unset variables do not fail validation', async () => {
  const source = readDeploySource(join(FIXTURES, 'README.md'));
  const check = await checkSourceConfig(source, {});
  assert.deepEqual(check.unsetVariables, ['API_UPSTREAM']);
});
