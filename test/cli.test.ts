import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { writeConfig } from './helpers.js';

const CLI = fileURLToPath(new URL('../cli/index.js', import.meta.url));

function pactown(args: string[], env: NodeJS.ProcessEnv = {}) {
  const result = spawnSync(process.execPath, [CLI, ...args], {
    encoding: 'utf8',
    env: { PATH: process.env.PATH, ...env },
    timeout: 30_000,
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('pactown command', () => {
  it('validate exits 0 for a valid file', () => {
    const file = writeConfig('routes:\n  - path: /api\n    target: http://127.0.0.1:3000\n');
    const result = pactown(['validate', file]);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /valid, 1 route$/m);
  });

  it('validate prints every error and exits 1', () => {
    const file = writeConfig(
      'routes:\n  - path: /api\n    target: nope\n  - path: /b\n    target: http://127.0.0.1:1\n    retries: lots\n',
    );
    const result = pactown(['validate', file]);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /invalid config \(2 errors\)/);
    assert.match(result.stderr, /gateway\.yaml:3:13 routes\[0\]\.target: expected an http/);
    assert.match(result.stderr, /gateway\.yaml:6:14 routes\[1\]\.retries: expected integer/);
  });

  it('routes prints the compiled table', () => {
    const file = writeConfig(
      'routes:\n  - path: /api/v1\n    target: http://127.0.0.1:3000\n  - provider: stripe\n    secret: whsec_cli\n    target: http://127.0.0.1:3000/in?token=tok-cli\n',
    );
    const result = pactown(['routes', file, '--json']);
    assert.equal(result.code, 0, result.stderr);
    const table = JSON.parse(result.stdout);
    assert.equal(table.routes[0].path, '/api/v1');
    assert.equal(table.routes[1].target, 'http://127.0.0.1:3000/in?token=***');
    assert.ok(!result.stdout.includes('whsec_cli'), 'the secret is hidden');
    const text = pactown(['routes', file]);
    assert.match(text.stdout, /\/api\/v1\s+proxy\s+http:\/\/127\.0\.0\.1:3000\s/);
    assert.match(
      text.stdout,
      /\/webhooks\/stripe\s+webhook stripe\s+http:\/\/127\.0\.0\.1:3000\/in\?token=\*\*\*\s/,
    );
  });

  it('unknown command names its parent', () => {
    const result = pactown(['deploy', 'routes.yaml']);
    assert.equal(result.code, 1);
    assert.match(
      result.stderr,
      /unknown command "deploy"; did you mean "pactown quadlet deploy"\?/,
    );
    assert.match(pactown(['nope']).stderr, /^unknown command "nope"\n/);
  });

  it('init writes a config that validates', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pactown-init-'));
    const file = join(dir, 'routes.yaml');
    assert.equal(pactown(['init', file]).code, 0);
    assert.match(readFileSync(file, 'utf8'), /routes:/);
    assert.equal(pactown(['validate', file]).code, 0);
    assert.equal(pactown(['init', file]).code, 1, 'init must not overwrite without --force');
  });

  it('start names the missing file and pactown init', () => {
    const result = pactown(['start'], { ROUTES_CONFIG: '/nonexistent/routes.yaml' });
    assert.equal(result.code, 1);
    assert.match(result.stderr, /^cannot load config \(1 error\):/m);
    assert.match(result.stderr, /\/nonexistent\/routes\.yaml/);
    assert.match(result.stderr, /pactown init/);
  });

  it('prints help for each command', () => {
    for (const command of ['start', 'validate', 'routes', 'init', 'schema']) {
      const result = pactown([command, '--help']);
      assert.equal(result.code, 0, command);
      assert.match(result.stdout, new RegExp(`Usage: pactown ${command}`));
    }
    assert.match(pactown(['--help']).stdout, /Commands:/);
    assert.equal(pactown(['frobnicate']).code, 1);
  });

  it('rejects an unknown option with usage', () => {
    const result = pactown(['validate', '--bogus', 'x']);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /^unknown option --bogus\n/);
    assert.match(result.stderr, /Usage: pactown validate/);
  });

  it('commands take FILE or --config', () => {
    const file = writeConfig('routes:\n  - path: /api\n    target: http://127.0.0.1:3000\n');
    const missing = '/nonexistent/routes.yaml';
    for (const command of ['validate', 'routes']) {
      const positional = pactown([command, file], { ROUTES_CONFIG: missing });
      assert.equal(positional.code, 0, `${command} FILE: ${positional.stderr}`);
      const option = pactown([command, '--config', file], { ROUTES_CONFIG: missing });
      assert.equal(option.code, 0, `${command} --config: ${option.stderr}`);
      const fromEnv = pactown([command], { ROUTES_CONFIG: file });
      assert.equal(fromEnv.code, 0, `${command} with ROUTES_CONFIG: ${fromEnv.stderr}`);
      const both = pactown([command, file, '--config', file]);
      assert.equal(both.code, 2, `${command} with FILE and --config`);
      assert.match(both.stderr, /as FILE or as --config FILE, not both/);
      const two = pactown([command, file, file]);
      assert.equal(two.code, 2, `${command} with two files`);
    }
    const start = pactown(['start', missing], { ROUTES_CONFIG: file });
    assert.equal(start.code, 1);
    assert.match(start.stderr, /\/nonexistent\/routes\.yaml/, 'start reads its FILE argument');
  });

  it('start names a port in use', async (t) => {
    const { createServer } = await import('node:net');
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    t.after(() => server.close());
    const { port } = server.address() as import('node:net').AddressInfo;
    const file = writeConfig('routes: []\n');
    const result = pactown([
      'start',
      '--config',
      file,
      '--host',
      '127.0.0.1',
      '--port',
      String(port),
    ]);
    assert.equal(result.code, 1);
    assert.match(
      result.stderr,
      new RegExp(
        `^cannot listen on 127\\.0\\.0\\.1:${port}: the address is already in use; .*--port`,
      ),
    );
    assert.equal(result.stderr.match(/in use/g)?.length, 1, result.stderr);
    assert.doesNotMatch(result.stderr, /at .*\.js:\d+/);
  });

  it('schema prints a JSON Schema', () => {
    const result = pactown(['schema']);
    assert.equal(result.code, 0, result.stderr);
    const schema = JSON.parse(result.stdout);
    assert.equal(schema.type, 'object');
    assert.ok(schema.properties.routes);
  });
});
