import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { type TestContext, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import {
  DeployError,
  detectPodmanVersion,
  hostNotes,
  installUnits,
  quadletUnitDir,
  startCommands,
} from '../cli/quadlet/index.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const CLI = join(HERE, '..', 'cli', 'index.js');
const FIXTURES = join(HERE, '..', '..', 'test', 'fixtures', 'quadlet');

function tempDir(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'pactown-quadlet-install-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Creates a folder with a `podman` script that prints `output` for `podman --version`. */
function fakePodman(t: TestContext, output: string): string {
  const bin = join(tempDir(t), 'bin');
  mkdirSync(bin);
  writeFileSync(join(bin, 'podman'), `#!/bin/sh\necho "${output}"\n`);
  chmodSync(join(bin, 'podman'), 0o755);
  return bin;
}

function runCli(args: string[], env: NodeJS.ProcessEnv, cwd: string) {
  return spawnSync(process.execPath, [CLI, ...args], {
    env,
    cwd,
    encoding: 'utf8',
    timeout: 60_000,
  });
}

test('podman version detection', (t) => {
  assert.deepEqual(detectPodmanVersion({ PATH: fakePodman(t, 'podman version 5.4.2') }), {
    major: 5,
    minor: 4,
    patch: 2,
  });
  assert.deepEqual(detectPodmanVersion({ PATH: fakePodman(t, 'podman version 4.4.1') }).minor, 4);
});

test('old podman says what to do', (t) => {
  assert.throws(
    () => detectPodmanVersion({ PATH: fakePodman(t, 'podman version 4.3.1') }),
    (error: Error) => {
      assert.ok(error instanceof DeployError);
      assert.match(
        error.message,
        /podman 4\.3\.1 is installed, but Quadlet needs podman 4\.4 or newer/,
      );
      assert.match(error.message, /Debian 12 ships podman 4\.3/);
      return true;
    },
  );
});

test('missing podman says what to do', (t) => {
  const empty = join(tempDir(t), 'empty');
  mkdirSync(empty);
  assert.throws(
    () => detectPodmanVersion({ PATH: empty }),
    (error: Error) =>
      error instanceof DeployError &&
      /^podman is not installed\. Install podman 4\.4/.test(error.message),
  );
});

test('quadlet unit folders', () => {
  assert.equal(quadletUnitDir(true, {}), '/etc/containers/systemd');
  assert.equal(
    quadletUnitDir(false, { XDG_CONFIG_HOME: '/x/config' }),
    '/x/config/containers/systemd',
  );
  assert.equal(
    quadletUnitDir(false, { HOME: '/home/ops' }),
    '/home/ops/.config/containers/systemd',
  );
});

test('start commands for user and system', () => {
  assert.deepEqual(startCommands(['gw-gateway.service', 'gw-caddy.service'], false), [
    'systemctl --user daemon-reload',
    'systemctl --user start gw-gateway.service',
    'systemctl --user start gw-caddy.service',
    'systemctl --user status gw-gateway.service gw-caddy.service',
  ]);
  assert.deepEqual(startCommands(['gw-gateway.service'], true), [
    'sudo systemctl daemon-reload',
    'sudo systemctl start gw-gateway.service',
    'sudo systemctl status gw-gateway.service',
  ]);
});

test('install copies the units', (t) => {
  const out = tempDir(t);
  writeFileSync(join(out, 'a.container'), '[Container]\nImage=x\n');
  writeFileSync(join(out, 'a.network'), '[Network]\n');
  const target = join(tempDir(t), 'containers', 'systemd');
  const copied = installUnits(out, ['a.container', 'a.network'], target);
  assert.deepEqual(copied, [join(target, 'a.container'), join(target, 'a.network')]);
  assert.equal(readFileSync(join(target, 'a.network'), 'utf8'), '[Network]\n');
});

test('host notes for ports, linger and env', (t) => {
  const dir = tempDir(t);
  const portFile = join(dir, 'port-start');
  writeFileSync(portFile, '1024\n');
  const lingerDir = join(dir, 'linger');
  mkdirSync(lingerDir);
  const notes = hostNotes({
    system: false,
    lowestPort: 80,
    outDir: dir,
    unprivilegedPortStartFile: portFile,
    lingerDir,
    user: 'ops',
  });
  assert.equal(notes.length, 3);
  assert.match(notes[0], /\.env does not exist yet/);
  assert.match(
    notes[1],
    /cannot publish port 80, because net\.ipv4\.ip_unprivileged_port_start is 1024/,
  );
  assert.match(notes[1], /net\.ipv4\.ip_unprivileged_port_start=80/);
  assert.match(notes[2], /sudo loginctl enable-linger ops/);

  writeFileSync(join(dir, '.env'), 'X=1\n');
  writeFileSync(portFile, '80\n');
  writeFileSync(join(lingerDir, 'ops'), '');
  assert.deepEqual(
    hostNotes({
      system: false,
      lowestPort: 80,
      outDir: dir,
      unprivilegedPortStartFile: portFile,
      lingerDir,
      user: 'ops',
    }),
    [],
  );
});

test('cli deploy --install targets the installed podman', (t) => {
  const home = tempDir(t);
  const env = {
    PATH: fakePodman(t, 'podman version 5.4.2'),
    HOME: home,
    XDG_CONFIG_HOME: join(home, 'config'),
  };
  const args = [
    'quadlet',
    'deploy',
    join(FIXTURES, 'README.md'),
    '--domain',
    'yourdomain.com',
    '--subdomain',
    'api',
    '--tenant',
    'gateway',
    '--tls',
    '--install',
  ];
  const result = runCli(args, env, home);
  assert.equal(result.status, 0, result.stderr);

  const installed = join(home, 'config', 'containers', 'systemd');
  assert.deepEqual(readdirSync(installed).sort(), [
    'gateway-caddy-config.volume',
    'gateway-caddy-data.volume',
    'gateway-caddy.container',
    'gateway-data.volume',
    'gateway-gateway.container',
    'gateway.network',
  ]);
  assert.match(
    readFileSync(join(installed, 'gateway-gateway.container'), 'utf8'),
    /^HealthCmd=node /m,
  );
  assert.ok(
    existsSync(join(home, 'sandbox', 'gateway.yaml')),
    'default output folder is ./sandbox',
  );

  assert.match(result.stdout, /installed 6 units into .*containers\/systemd \(podman 5\.4\.2\)/);
  assert.match(result.stdout, /systemctl --user daemon-reload/);
  assert.match(result.stdout, /systemctl --user start gateway-gateway\.service/);
  assert.match(result.stdout, /systemctl --user start gateway-caddy\.service/);
  assert.match(result.stdout, /sandbox\/\.env does not exist yet/);
  assert.match(result.stdout, /https:\/\/api\.yourdomain\.com\/health/);
});

test('cli deploy --install rejects old podman', (t) => {
  const home = tempDir(t);
  const env = { PATH: fakePodman(t, 'podman version 4.3.1'), HOME: home };
  const args = [
    'quadlet',
    'deploy',
    join(FIXTURES, 'gateway.yaml'),
    '--domain',
    'example.com',
    '--subdomain',
    'api',
    '--tenant',
    'gw',
    '--install',
  ];
  const result = runCli(args, env, home);
  assert.equal(result.status, 1);
  assert.match(result.stderr, /Quadlet needs podman 4\.4 or newer/);
  assert.equal(existsSync(join(home, '.config', 'containers', 'systemd')), false);
  assert.equal(
    existsSync(join(home, 'sandbox')),
    false,
    'nothing is written before podman is checked',
  );
});

test('cli deploy without install prints next steps', (t) => {
  const home = tempDir(t);
  const args = [
    'quadlet',
    'deploy',
    join(FIXTURES, 'gateway.yaml'),
    '--domain',
    'example.com',
    '--subdomain',
    'api',
    '--tenant',
    'gw',
    '--out',
    'deploy',
  ];
  const result = runCli(args, { PATH: '', HOME: home }, home);
  assert.equal(result.status, 0, result.stderr);
  assert.match(result.stdout, /wrote .*\/deploy:/);
  assert.match(
    result.stdout,
    /podman build -f deploy\/Containerfile -t localhost\/pactown-gateway:latest /,
  );
  assert.match(result.stdout, /BACKEND_URL has no value on this machine/);
  assert.match(result.stdout, /http:\/\/api\.example\.com:8080\/health/);
});

test('cli usage errors exit 2', (t) => {
  const home = tempDir(t);
  const cases: [string[], RegExp][] = [
    [
      ['quadlet', 'deploy', 'x.yaml', '--domain', 'example.com', '--subdomain', 'api'],
      /quadlet deploy needs --tenant/,
    ],
    [['quadlet'], /quadlet needs an action: deploy or lint/],
    [['quadlet', 'ship'], /unknown quadlet action "ship"/],
    [
      [
        'quadlet',
        'deploy',
        'x.yaml',
        '--domain',
        'example.com',
        '--subdomain',
        'api',
        '--tenant',
        'gw',
        '--system',
      ],
      /--system only applies with --install/,
    ],
    [['quadlet', 'lint', home, '--tls'], /quadlet lint does not take --tls/],
    [['quadlet', 'lint', home, '--podman-version', 'four'], /--podman-version "four"/],
  ];
  for (const [args, pattern] of cases) {
    const result = runCli(args, { PATH: '', HOME: home }, home);
    assert.equal(result.status, 2, `${args.join(' ')}: ${result.stderr}`);
    assert.match(result.stderr, pattern);
  }
});

test('cli lint reports errors', (t) => {
  const dir = tempDir(t);
  writeFileSync(
    join(dir, 'app.container'),
    '[Container]\nImage=localhost/x:1\nNetwork=missing.network\nHealthCmd=true\n',
  );
  const result = runCli(['quadlet', 'lint', dir], { PATH: '', HOME: dir }, dir);
  assert.equal(result.status, 1);
  assert.match(
    result.stdout,
    /app\.container:3: error: Network=missing\.network refers to a unit that is not in this folder/,
  );
  assert.match(result.stdout, /app\.container:4: error: HealthCmd= needs podman 4\.5 or newer/);
  assert.match(result.stdout, /2 errors, 0 warnings for podman 4\.4\.0/);
  const newer = runCli(
    ['quadlet', 'lint', dir, '--podman-version', '5.0'],
    { PATH: '', HOME: dir },
    dir,
  );
  assert.match(newer.stdout, /1 error, 0 warnings for podman 5\.0\.0/);
});
