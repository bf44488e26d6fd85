import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  type LintIssue,
  lintUnits,
  type PodmanVersion,
  parsePodmanVersion,
} from '../cli/quadlet/index.js';

function version(text: string): PodmanVersion {
  return parsePodmanVersion(text) as PodmanVersion;
}

const NETWORK = '[Network]\n';
const VOLUME = '[Volume]\nUser=1000\nGroup=1000\n';

function container(body: string): string {
  return `[Unit]\nDescription=test\n\n[Container]\nImage=localhost/app:latest\n${body}\n[Install]\nWantedBy=default.target\n`;
}

/** Lints a container unit next to a network and a volume that it uses. */
function lintContainer(body: string, target = '4.4'): LintIssue[] {
  const units = {
    'app.container': container(`Network=app.network\nVolume=app-data.volume:/data\n${body}`),
    'app.network': NETWORK,
    'app-data.volume': VOLUME,
  };
  return lintUnits(units, { podmanVersion: version(target) });
}

function messages(issues: LintIssue[], severity: 'error' | 'warning' = 'error'): string[] {
  return issues.filter((issue) => issue.severity === severity).map((issue) => issue.message);
}

test('valid units have no findings', () => {
  assert.deepEqual(lintContainer('PublishPort=8080:8080\nReadOnly=true\n'), []);
});

test('unknown section is an error', () => {
  const issues = lintContainer('[Services]\nRestart=always\n');
  assert.deepEqual(messages(issues), [
    'unknown section [Services] for podman 4.4.0; expected one of [Unit], [Service], [Install], [Container]',
  ]);
  assert.equal(issues[0].line, 8);
});

test('x-sections are allowed', () => {
  assert.deepEqual(lintContainer('[X-Notes]\nAnything=goes\n'), []);
});

test('quadlet section needs podman 5.3', () => {
  const body = '[Quadlet]\nDefaultDependencies=false\n';
  assert.equal(messages(lintContainer(body, '4.4')).length, 1);
  assert.deepEqual(lintContainer(body, '5.3'), []);
});

test('unknown container key is an error', () => {
  assert.deepEqual(messages(lintContainer('Imagee=localhost/x:1\n')), [
    'unknown key Imagee= in [Container]',
  ]);
});

test('key newer than the target is an error', () => {
  const body = 'HealthCmd=true\nTmpfs=/tmp\nReadOnlyTmpfs=true\nMemory=512m\n';
  assert.deepEqual(messages(lintContainer(body, '4.4')), [
    'HealthCmd= needs podman 4.5 or newer, but the units target podman 4.4.0',
    'Tmpfs= needs podman 4.5 or newer, but the units target podman 4.4.0',
    'ReadOnlyTmpfs= needs podman 4.8 or newer, but the units target podman 4.4.0',
    'Memory= needs podman 5.5 or newer, but the units target podman 4.4.0',
  ]);
  assert.deepEqual(messages(lintContainer(body, '5.5')), []);
});

test('deprecated key warns from 4.8', () => {
  assert.deepEqual(lintContainer('VolatileTmp=true\n', '4.4'), []);
  assert.deepEqual(messages(lintContainer('VolatileTmp=true\n', '4.8'), 'warning'), [
    'VolatileTmp= is deprecated since podman 4.8; use ReadOnlyTmpfs= or Tmpfs=',
  ]);
});

test('unknown unit and install keys are errors', () => {
  const unit = container('')
    .replace('Description=test', 'Descripton=test')
    .replace('WantedBy', 'WantBy');
  const issues = lintUnits({ 'app.container': unit }, { podmanVersion: version('4.4') });
  assert.deepEqual(messages(issues), [
    'unknown key Descripton= in [Unit]',
    'unknown key WantBy= in [Install]',
  ]);
});

test('condition keys are accepted', () => {
  const unit = container('').replace(
    'Description=test',
    'Description=test\nConditionPathExists=/etc/x',
  );
  assert.deepEqual(lintUnits({ 'app.container': unit }, { podmanVersion: version('4.4') }), []);
});

test('missing network and volume units', () => {
  const units = { 'app.container': container('Network=gone.network\nVolume=gone.volume:/data\n') };
  assert.deepEqual(messages(lintUnits(units, { podmanVersion: version('4.4') })), [
    'Network=gone.network refers to a unit that is not in this folder',
    'Volume=gone.volume refers to a unit that is not in this folder',
  ]);
});

test('unused network and volume warn', () => {
  const units = {
    'app.container': container(''),
    'app.network': NETWORK,
    'app-data.volume': VOLUME,
  };
  const issues = lintUnits(units, { podmanVersion: version('4.4') });
  assert.deepEqual(messages(issues), []);
  assert.deepEqual(messages(issues, 'warning'), [
    'no .container unit uses app.network',
    'no .container unit uses app-data.volume',
  ]);
});

test('dependencies must resolve', () => {
  const caddy = container('').replace(
    'Description=test',
    'Description=test\nRequires=app.service app-network.service app-data-volume.service\nAfter=other.service network-online.target',
  );
  const units = {
    'caddy.container': caddy,
    'app.container': container('Network=app.network\nVolume=app-data.volume:/data\n'),
    'app.network': NETWORK,
    'app-data.volume': VOLUME,
  };
  assert.deepEqual(messages(lintUnits(units, { podmanVersion: version('4.4') })), [
    'After=other.service refers to a service that no unit in this folder generates',
  ]);
});

test('ports must be well formed', () => {
  const cases: [string, string][] = [
    ['PublishPort=80:80', ''],
    ['PublishPort=127.0.0.1:8080:80', ''],
    ['PublishPort=[::1]:8080:80/tcp', ''],
    ['PublishPort=443:443/udp', ''],
    ['PublishPort=8000-8010:8000-8010', ''],
    ['PublishPort=0:80', 'PublishPort host port "0" is not a port'],
    ['PublishPort=80:70000', 'PublishPort container port "70000" is not a port'],
    ['PublishPort=http:80', 'PublishPort host port "http" is not a port'],
    ['PublishPort=300.1.1.1:80:80', 'PublishPort address "300.1.1.1" is not an IP address'],
    ['PublishPort=9-1:80', 'PublishPort host port "9-1" is not a port'],
    ['PublishPort=80:80/icmp', 'PublishPort container port "80/icmp" is not a port'],
    ['ExposeHostPort=abc', 'ExposeHostPort=abc is not a port or port range'],
  ];
  for (const [line, expected] of cases) {
    assert.deepEqual(messages(lintContainer(`${line}\n`)), expected ? [expected] : [], line);
  }
});

test('paths must be well formed', () => {
  const cases: [string, string][] = [
    ['Volume=/srv/app/config.yaml:/etc/app.yaml:ro,Z', ''],
    ['Volume=%h/app:/app', ''],
    ['Volume=named:/cache', ''],
    ['Volume=/srv:relative/dest', 'Volume destination relative/dest is not an absolute path'],
    ['Volume=/srv/../etc:/x', 'Volume source /srv/../etc contains a ".." segment'],
    ['Volume=/srv:/x:ro,bogus', 'Volume= option "bogus" is not a known mount option'],
    [
      'Volume=./here:/x',
      'Volume source ./here is relative, which needs podman 4.5 or newer; use an absolute path',
    ],
    ['Volume=a:b:c:d', 'Volume=a:b:c:d has more than SOURCE:DEST:OPTIONS'],
    ['EnvironmentFile=/srv/app/.env', ''],
    ['EnvironmentFile=.env', ''],
    [
      'EnvironmentFile=/srv/my app/.env',
      'EnvironmentFile "/srv/my app/.env" contains whitespace; quote it',
    ],
    ['EnvironmentFile="/srv/my app/.env"', ''],
    ['Tmpfs=/tmp', 'Tmpfs= needs podman 4.5 or newer, but the units target podman 4.4.0'],
  ];
  for (const [line, expected] of cases) {
    assert.deepEqual(messages(lintContainer(`${line}\n`)), expected ? [expected] : [], line);
  }
  assert.deepEqual(messages(lintContainer('Tmpfs=tmp:rw\n', '4.5')), [
    'Tmpfs tmp is not an absolute path',
  ]);
  assert.deepEqual(messages(lintContainer('Volume=./here:/x\n', '4.5')), []);
});

test('container values are checked', () => {
  const cases: [string, string][] = [
    ['ContainerName=-bad', 'ContainerName=-bad is not a valid container name'],
    ['Exec=', 'Exec= is empty'],
    ['PodmanArgs="--health-cmd=node x', 'PodmanArgs= has an unclosed quote'],
    ['PodmanArgs="--health-cmd=node \\"x\\"" --memory=1g', ''],
  ];
  for (const [line, expected] of cases) {
    assert.deepEqual(messages(lintContainer(`${line}\n`)), expected ? [expected] : [], line);
  }
});

test('image is required and qualified', () => {
  const noImage = '[Container]\nExec=start\n';
  assert.deepEqual(
    messages(lintUnits({ 'a.container': noImage }, { podmanVersion: version('4.4') })),
    ['missing Image= in [Container]'],
  );
  const short = '[Container]\nImage=caddy:2\n';
  const issues = lintUnits({ 'a.container': short }, { podmanVersion: version('4.4') });
  assert.equal(messages(issues).length, 0);
  assert.match(messages(issues, 'warning')[0], /Image=caddy:2 is a short name/);
});

test('service values are checked', () => {
  const body =
    '[Service]\nRestart=sometimes\nType=simple\nKillMode=process\nMemoryMax=1G\nFancyKey=1\n';
  const issues = lintContainer(body);
  assert.deepEqual(messages(issues), [
    'Restart=sometimes is not one of no, on-success, on-failure, on-abnormal, on-watchdog, on-abort, always',
    'Type=simple: Quadlet containers accept only notify or oneshot',
    'KillMode=process: Quadlet accepts only mixed or control-group',
  ]);
  assert.deepEqual(messages(issues, 'warning'), [
    'FancyKey= in [Service] is not a key this lint knows',
  ]);
});

test('network and volume values are checked', () => {
  const units = {
    'app.container': container('Network=app.network\nVolume=app-data.volume:/data\n'),
    'app.network': '[Network]\nSubnet=10.89.0.0/33\nGateway=10.89.0.256\nInterfaceName=eth9\n',
    'app-data.volume': '[Volume]\nUser=node\n',
  };
  assert.deepEqual(messages(lintUnits(units, { podmanVersion: version('4.4') })), [
    'InterfaceName= needs podman 5.6 or newer, but the units target podman 4.4.0',
    'Subnet=10.89.0.0/33 is not a CIDR range such as 10.89.1.0/24',
    'Gateway=10.89.0.256 is not an IP address',
    'User=node must be a numeric id before podman 4.8',
  ]);
});

test('syntax errors and missing section', () => {
  const units = {
    'app.container': 'Image=x\n[Container]\nnot a pair\n',
    'bad name.network': '[Unit]\n',
  };
  const issues = lintUnits(units, { podmanVersion: version('4.4') });
  assert.deepEqual(messages(issues), [
    'entry before the first [Section] header',
    'expected Key=value or [Section], got "not a pair"',
    'missing Image= in [Container]',
    '"bad name.network" is not a valid systemd unit name (letters, digits, ":_.\\-")',
    'missing the [Network] section',
  ]);
});

test('continuation lines join values', () => {
  const issues = lintContainer('PodmanArgs=--memory=1g \\\n  --pids-limit=100\nDuplicate=\n');
  assert.deepEqual(messages(issues), ['unknown key Duplicate= in [Container]']);
  assert.equal(issues[0].line, 10);
});

test('duplicate single value key warns', () => {
  const issues = lintContainer('ContainerName=a\nContainerName=b\n');
  assert.deepEqual(messages(issues, 'warning'), [
    'ContainerName= is also set on line 8; Quadlet uses the last value',
  ]);
});
