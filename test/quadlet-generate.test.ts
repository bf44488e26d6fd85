import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { type TestContext, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parseDocument } from 'yaml';
import {
  DeployError,
  type DeployRequest,
  deploy,
  lintUnitFolder,
  nodeHeapFlags,
  nodeHeapFlagsForSize,
  parseMemorySize,
  parsePodmanVersion,
  parseUnit,
} from '../cli/quadlet/index.js';
import { ConfigError } from '../core/index.js';

/** The project folder: the compiled test runs from dist/test. */
const PROJECT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

const FIXTURES = join(
  dirname(fileURLToPath(import.meta.url)),
  '..',
  '..',
  'test',
  'fixtures',
  'quadlet',
);

function tempDir(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'pactown-quadlet-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function request(out: string, overrides: Partial<DeployRequest> = {}): DeployRequest {
  return {
    source: join(FIXTURES, 'gateway.yaml'),
    tenant: 'gw',
    domain: 'example.com',
    subdomain: 'api',
    tls: false,
    out,
    image: 'localhost/pactown-gateway:latest',
    memory: '512m',
    podmanVersion: parsePodmanVersion('4.4') as NonNullable<ReturnType<typeof parsePodmanVersion>>,
    env: {},
    ...overrides,
  };
}

function read(dir: string, name: string): string {
  return readFileSync(join(dir, name), 'utf8');
}

/** Values of `key` in `[section]` of a unit file. */
function values(text: string, section: string, key: string): string[] {
  return parseUnit(text)
    .sections.filter((candidate) => candidate.name === section)
    .flatMap((candidate) => candidate.entries)
    .filter((entry) => entry.key === key)
    .map((entry) => entry.value);
}

test('yaml without tls writes the gateway units', async (t) => {
  const out = tempDir(t);
  const result = await deploy(request(out));
  assert.deepEqual(readdirSync(out).sort(), [
    '.env.example',
    'Containerfile',
    'gateway.yaml',
    'gw-data.volume',
    'gw-gateway.container',
    'gw.network',
  ]);

  assert.deepEqual(result.deployment.services, ['gw-gateway.service']);
  const unit = read(out, 'gw-gateway.container');
  assert.deepEqual(values(unit, 'Container', 'Image'), ['localhost/pactown-gateway:latest']);
  assert.deepEqual(values(unit, 'Container', 'Network'), ['gw.network']);
  assert.deepEqual(values(unit, 'Container', 'EnvironmentFile'), [join(out, '.env')]);
  assert.deepEqual(values(unit, 'Container', 'PublishPort'), ['8080:8080']);
  assert.deepEqual(values(unit, 'Container', 'Volume'), [
    `${join(out, 'gateway.yaml')}:/etc/pactown/gateway.yaml:ro,Z`,
    'gw-data.volume:/var/lib/pactown',
  ]);
  assert.deepEqual(values(unit, 'Container', 'Exec'), [
    'start --config /etc/pactown/gateway.yaml --port 8080 --host 0.0.0.0',
  ]);
  assert.deepEqual(values(unit, 'Container', 'ReadOnly'), ['true']);
  assert.deepEqual(values(unit, 'Container', 'VolatileTmp'), ['true']);
  assert.deepEqual(values(unit, 'Container', 'NoNewPrivileges'), ['true']);
  assert.deepEqual(values(unit, 'Service', 'Restart'), ['always']);
  assert.deepEqual(values(unit, 'Install', 'WantedBy'), ['default.target']);

  const podmanArgs = values(unit, 'Container', 'PodmanArgs').join(' ');
  assert.match(podmanArgs, /--memory=512m/);
  assert.match(
    podmanArgs,
    /"--health-cmd=node \/app\/dist\/cli\/quadlet\/healthcheck\.js http:\/\/127\.0\.0\.1:8080\/health"/,
  );
  assert.deepEqual(values(unit, 'Container', 'HealthCmd'), [], 'HealthCmd= needs podman 4.5');
  assert.deepEqual(lintUnitFolder(out, { podmanVersion: request(out).podmanVersion }), []);
});

test('markdown with tls adds caddy', async (t) => {
  const out = tempDir(t);
  const result = await deploy(
    request(out, {
      source: join(FIXTURES, 'README.md'),
      tls: true,
      tenant: 'gateway',
      domain: 'yourdomain.com',
    }),
  );
  assert.deepEqual(result.deployment.services, [
    'gateway-gateway.service',
    'gateway-caddy.service',
  ]);
  assert.equal(result.deployment.hostname, 'api.yourdomain.com');

  const gateway = read(out, 'gateway-gateway.container');
  assert.deepEqual(values(gateway, 'Container', 'PublishPort'), [], 'only Caddy is published');
  assert.deepEqual(values(gateway, 'Container', 'Exec'), [
    'start --config /etc/pactown/gateway.yaml --port 9090 --host 0.0.0.0',
  ]);

  const caddy = read(out, 'gateway-caddy.container');
  assert.deepEqual(values(caddy, 'Container', 'Image'), ['docker.io/library/caddy:2']);
  assert.deepEqual(values(caddy, 'Container', 'Network'), ['gateway.network']);
  assert.deepEqual(values(caddy, 'Container', 'PublishPort'), ['80:80', '443:443', '443:443/udp']);
  assert.deepEqual(values(caddy, 'Container', 'Volume'), [
    `${join(out, 'Caddyfile')}:/etc/caddy/Caddyfile:ro,Z`,
    'gateway-caddy-data.volume:/data',
    'gateway-caddy-config.volume:/config',
  ]);
  assert.deepEqual(values(caddy, 'Unit', 'Requires'), ['gateway-gateway.service']);
  assert.deepEqual(values(caddy, 'Install', 'WantedBy'), ['default.target']);

  const caddyfile = read(out, 'Caddyfile');
  assert.match(caddyfile, /^api\.yourdomain\.com \{\n\treverse_proxy gateway-gateway:9090\n\}$/m);
  const config = read(out, 'gateway.yaml');
  assert.match(config, /target: \$\{API_UPSTREAM\}/);
  assert.doesNotMatch(config, /\/wrong/);
  for (const name of [
    'gateway.network',
    'gateway-data.volume',
    'gateway-caddy-data.volume',
    'gateway-caddy-config.volume',
  ]) {
    assert.ok(readdirSync(out).includes(name), name);
  }
  assert.deepEqual(lintUnitFolder(out, { podmanVersion: request(out).podmanVersion }), []);
});

test('env example lists every variable by name', async (t) => {
  const out = tempDir(t);
  await deploy(request(out, { source: join(FIXTURES, 'README.md') }));
  const example = read(out, '.env.example');
  assert.match(example, /^API_UPSTREAM=$/m);
  assert.match(example, /^STATUS_UPSTREAM=$/m);
  assert.match(
    example,
    /^# STORAGE_PATH is set to \/var\/lib\/pactown by gw-gateway\.container\.$/m,
  );
  const plain = await deploy(request(tempDir(t)));
  const yamlExample = read(plain.outDir, '.env.example');
  assert.match(yamlExample, /^BACKEND_URL=$/m);
  assert.match(yamlExample, /^BILLING_URL=$/m);
  assert.match(
    yamlExample,
    /^# PORT has no effect in the container: gw-gateway\.container passes --port\.$/m,
  );
  for (const line of yamlExample
    .split('\n')
    .filter((item) => !item.startsWith('#') && item !== '')) {
    assert.match(line, /^[A-Z_]+=$/, `a line with a value: ${line}`);
  }
});

test('env example skips commented references', async (t) => {
  const out = tempDir(t);
  const dir = tempDir(t);
  const config = join(dir, 'routes.yaml');
  writeFileSync(
    config,
    [
      '# ${NAME} reads an environment variable; ${OLD_URL} is no longer used.',
      'routes:',
      '  - path: /api   # was ${LEGACY_TARGET}',
      '    target: ${BACKEND_URL}',
      '',
    ].join('\n'),
  );
  await deploy(request(out, { source: config }));
  const example = read(out, '.env.example');
  assert.match(example, /^BACKEND_URL=$/m);
  for (const name of ['NAME', 'OLD_URL', 'LEGACY_TARGET']) {
    assert.doesNotMatch(example, new RegExp(`^${name}=`, 'm'), `${name} in .env.example`);
  }
});

test('secrets never reach generated files', async (t) => {
  const out = tempDir(t);
  const secret = 'admin-token-do-not-write-this-value';
  const dir = tempDir(t);
  const config = join(dir, 'routes.yaml');
  writeFileSync(
    config,
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a YAML variable reference
    'admin:\n  token: ${PACTOWN_ADMIN_TOKEN}\nroutes:\n  - path: /api\n    target: ${BACKEND_URL}\n',
  );
  await deploy(
    request(out, {
      source: config,
      tls: true,
      env: { PACTOWN_ADMIN_TOKEN: secret, BACKEND_URL: 'http://10.0.0.9:9999' },
    }),
  );
  assert.match(read(out, '.env.example'), /^PACTOWN_ADMIN_TOKEN=$/m);
  assert.match(read(out, 'gateway.yaml'), /token: \$\{PACTOWN_ADMIN_TOKEN\}/);
  for (const name of readdirSync(out)) {
    const text = read(out, name);
    assert.ok(!text.includes(secret), `${name} contains the secret`);
    assert.ok(!text.includes('10.0.0.9'), `${name} contains an environment value`);
  }
});

test('inline secrets fail before writing', async (t) => {
  const out = join(tempDir(t), 'out');
  const config = join(tempDir(t), 'routes.yaml');
  writeFileSync(
    config,
    [
      'admin:',
      '  token: admin-token-written-inline-0123',
      'routes:',
      '  - path: /api/*',
      '    target: http://10.0.0.9:9999',
      '    auth: { scheme: api_key, keys: { ci: key-written-inline } }',
      '  - path: /other/*',
      '    target: http://10.0.0.9:9999',
      // biome-ignore lint/suspicious/noTemplateCurlyInString: a YAML variable reference
      '    auth: { scheme: api_key, keys: { ci: "${CI_KEY:-default-written-inline}" } }',
      '  - provider: stripe',
      // biome-ignore lint/suspicious/noTemplateCurlyInString: a YAML variable reference
      '    secret: ${STRIPE_WEBHOOK_SECRET}',
      '    target: http://10.0.0.9:9999/in',
      '',
    ].join('\n'),
  );
  const env = { STRIPE_WEBHOOK_SECRET: 'whsec_from_env' };
  await assert.rejects(deploy(request(out, { source: config, env })), (error: Error) => {
    assert.match(error.message, /contains 3 secrets as values/);
    assert.match(error.message, /routes\.yaml:9 routes\[1\]\.auth\.keys\.ci/);
    assert.match(error.message, /routes\.yaml:2 admin\.token/);
    assert.match(error.message, /routes\.yaml:6 routes\[0\]\.auth\.keys\.ci/);
    assert.ok(!error.message.includes('written-inline'), 'the message names no value');
    return true;
  });
  assert.throws(() => readdirSync(out), /ENOENT/);
  const allowed = await deploy(request(out, { source: config, env, allowInlineSecrets: true }));
  assert.ok(allowed.notes.some((note) => note.includes('keep the file private')));
});

test('secret env values stay out with a valid config', async (t) => {
  const out = tempDir(t);
  const value = 'http://secret-upstream.internal:7777';
  await deploy(
    request(out, { env: { BACKEND_URL: value, BILLING_URL: 'http://billing-token-like:9' } }),
  );
  for (const name of readdirSync(out)) {
    const text = read(out, name);
    assert.ok(!text.includes('secret-upstream'), `${name} contains BACKEND_URL`);
    assert.ok(!text.includes('billing-token-like'), `${name} contains BILLING_URL`);
  }
});

test('podman 4.5 target uses HealthCmd', async (t) => {
  const out = tempDir(t);
  const podmanVersion = parsePodmanVersion('4.5') as NonNullable<
    ReturnType<typeof parsePodmanVersion>
  >;
  await deploy(request(out, { podmanVersion }));
  const unit = read(out, 'gw-gateway.container');
  assert.deepEqual(values(unit, 'Container', 'HealthCmd'), [
    'node /app/dist/cli/quadlet/healthcheck.js http://127.0.0.1:8080/health',
  ]);
  assert.deepEqual(values(unit, 'Container', 'HealthInterval'), ['30s']);
  assert.deepEqual(values(unit, 'Container', 'HealthOnFailure'), ['kill']);
  assert.deepEqual(values(unit, 'Container', 'VolatileTmp'), ['true']);
  assert.doesNotMatch(values(unit, 'Container', 'PodmanArgs').join(' '), /health/);
  assert.deepEqual(lintUnitFolder(out, { podmanVersion }), []);
});

test('podman 4.8 target uses ReadOnlyTmpfs', async (t) => {
  const out = tempDir(t);
  const podmanVersion = parsePodmanVersion('4.8') as NonNullable<
    ReturnType<typeof parsePodmanVersion>
  >;
  await deploy(request(out, { podmanVersion, tls: true }));
  for (const name of ['gw-gateway.container', 'gw-caddy.container']) {
    const unit = read(out, name);
    assert.deepEqual(values(unit, 'Container', 'ReadOnlyTmpfs'), ['true'], name);
    assert.deepEqual(values(unit, 'Container', 'VolatileTmp'), [], name);
  }
  assert.deepEqual(lintUnitFolder(out, { podmanVersion }), []);
});

test('port option overrides the config', async (t) => {
  const out = tempDir(t);
  await deploy(request(out, { port: 3000 }));
  const unit = read(out, 'gw-gateway.container');
  assert.deepEqual(values(unit, 'Container', 'PublishPort'), ['3000:3000']);
  assert.match(values(unit, 'Container', 'Exec')[0], /--port 3000 /);
  assert.match(read(out, 'Containerfile'), /^EXPOSE 3000$/m);
});

test('containerfile builds from source as non-root', async (t) => {
  const out = tempDir(t);
  await deploy(request(out));
  const containerfile = read(out, 'Containerfile');
  assert.match(containerfile, /^FROM docker\.io\/library\/node:20-slim AS build$/m);
  assert.match(
    containerfile,
    /^COPY package\.json package-lock\.json tsconfig\.json tsconfig\.build\.json \.\/$/m,
  );
  assert.match(containerfile, /^RUN npx tsc -p tsconfig\.build\.json$/m);
  const final = containerfile.slice(containerfile.lastIndexOf('FROM '));
  assert.match(final, /^FROM docker\.io\/library\/node:20-slim$/m);
  assert.match(final, /^RUN npm ci --omit=dev/m);
  assert.match(final, /^USER node$/m);
  assert.match(final, /^ENTRYPOINT \["node", "\/app\/dist\/cli\/index\.js"\]$/m);
  for (const folder of ['core', 'plugins', 'providers', 'cli']) {
    assert.match(containerfile, new RegExp(`^COPY ${folder} \\./${folder}$`, 'm'));
  }
});

test('containerfile build stage compiles', { timeout: 120_000 }, async (t) => {
  const out = tempDir(t);
  await deploy(request(out));
  const containerfile = read(out, 'Containerfile');
  const stage = containerfile.slice(0, containerfile.lastIndexOf('FROM '));
  // The build stage run by hand: its COPY lines from the project folder, the installed
  // node_modules in place of `npm ci`, then every other RUN line.
  const context = tempDir(t);
  for (const line of stage.split('\n').filter((text) => text.startsWith('COPY '))) {
    const sources = line.split(' ').slice(1, -1);
    for (const source of sources) {
      cpSync(join(PROJECT, source), join(context, source), { recursive: true });
    }
  }
  symlinkSync(join(PROJECT, 'node_modules'), join(context, 'node_modules'));
  const commands = stage
    .split('\n')
    .filter((text) => text.startsWith('RUN ') && !text.startsWith('RUN npm ci'))
    .map((text) => text.slice(4));
  assert.ok(commands.length > 0, 'the build stage runs a build command');
  for (const command of commands) {
    const result = spawnSync('sh', ['-c', command], { cwd: context, encoding: 'utf8' });
    assert.equal(result.status, 0, `${command}: ${result.stdout}${result.stderr}`);
  }
  assert.ok(existsSync(join(context, 'dist/cli/index.js')), 'the entry point was built');
});

test('storage path defaults onto the volume', async (t) => {
  const out = tempDir(t);
  await deploy(request(out));
  const copy = parseDocument(read(out, 'gateway.yaml')).toJS();
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a YAML variable reference
  assert.equal(copy.storage.path, '${STORAGE_PATH:-./data}');
  const unit = read(out, 'gw-gateway.container');
  assert.ok(values(unit, 'Container', 'Environment').includes('STORAGE_PATH=/var/lib/pactown'));
});

test('storage path variants', async (t) => {
  const dir = tempDir(t);
  const cases = [
    {
      storage: '/srv/pactown',
      mount: '/srv/pactown',
      environment: undefined,
      copied: '/srv/pactown',
    },
    {
      // biome-ignore lint/suspicious/noTemplateCurlyInString: a YAML variable reference
      storage: '${DATA_DIR:-./data}',
      mount: '/var/lib/pactown',
      environment: 'DATA_DIR=/var/lib/pactown',
      // biome-ignore lint/suspicious/noTemplateCurlyInString: a YAML variable reference
      copied: '${DATA_DIR:-./data}',
    },
    {
      storage: './state',
      mount: '/var/lib/pactown',
      environment: 'STORAGE_PATH=/var/lib/pactown',
      // biome-ignore lint/suspicious/noTemplateCurlyInString: a YAML variable reference
      copied: '${STORAGE_PATH:-./state}',
    },
  ];
  for (const [index, item] of cases.entries()) {
    const config = join(dir, `storage-${index}.yaml`);
    writeFileSync(
      config,
      `# keep this comment\nstorage:\n  path: ${item.storage}\nroutes:\n  - path: /api\n    target: http://127.0.0.1:3000\n`,
    );
    const out = join(dir, `out-${index}`);
    await deploy(request(out, { source: config }));
    const unit = read(out, 'gw-gateway.container');
    assert.ok(
      values(unit, 'Container', 'Volume').includes(`gw-data.volume:${item.mount}`),
      item.storage,
    );
    const environment = values(unit, 'Container', 'Environment').filter(
      (entry) => !entry.startsWith('NODE_ENV=') && !entry.startsWith('"NODE_OPTIONS='),
    );
    assert.deepEqual(environment, item.environment ? [item.environment] : [], item.storage);
    const copy = read(out, 'gateway.yaml');
    assert.equal(parseDocument(copy).toJS().storage.path, item.copied, item.storage);
    assert.match(copy, /# keep this comment/);
  }
});

test('relative plugin path gets a note', async (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, 'noop-plugin.js'), 'export default [];\n');
  const config = join(dir, 'routes.yaml');
  writeFileSync(
    config,
    'plugins: [./noop-plugin.js]\nroutes:\n  - path: /api\n    target: http://backend:3000\n',
  );
  const result = await deploy(request(join(dir, 'out'), { source: config }));
  assert.equal(result.notes.length, 1);
  assert.match(result.notes[0], /plugin "\.\/noop-plugin\.js" is a file path/);
});

test('loopback targets get a note', async (t) => {
  const dir = tempDir(t);
  const config = join(dir, 'routes.yaml');
  writeFileSync(
    config,
    [
      'routes:',
      '  - path: /a',
      '    target: http://127.0.0.1:3000',
      '  - path: /b',
      '    target: http://localhost:3001/x',
      '  - path: /c',
      '    target: http://backend:3002',
      '  - path: /d',
      '    target: http://[::1]:3003',
      '',
    ].join('\n'),
  );
  const result = await deploy(request(join(dir, 'out'), { source: config }));
  const loopback = result.notes.filter((note) => note.includes('loopback address'));
  assert.deepEqual(
    loopback.map((note) => note.split(' ')[0]),
    ['routes[0].target', 'routes[1].target', 'routes[3].target'],
  );
  assert.match(loopback[0], /host\.containers\.internal/);
});

test('invalid config fails before writing', async (t) => {
  const out = join(tempDir(t), 'out');
  await assert.rejects(
    deploy(request(out, { source: join(FIXTURES, 'invalid.yaml') })),
    (error: Error) => {
      assert.ok(error instanceof ConfigError);
      assert.match(error.message, /invalid\.yaml:2:\d+ routes\[0\]\.path/);
      return true;
    },
  );
  assert.throws(() => readdirSync(out), /ENOENT/);
});

test('invalid options are rejected', async (t) => {
  const out = tempDir(t);
  const cases: [Partial<DeployRequest>, RegExp][] = [
    [{ tenant: 'bad name' }, /--tenant "bad name"/],
    [{ tenant: '-x' }, /--tenant "-x"/],
    [{ domain: 'localhost' }, /--domain "localhost" is not a DNS name/],
    [{ domain: 'exa_mple.com' }, /--domain/],
    [{ subdomain: 'api-' }, /--subdomain "api-"/],
    [{ memory: 'lots' }, /--memory "lots"/],
    [{ memory: '1.5g' }, /--memory "1\.5g" must be a size/],
    [{ memory: '128m' }, /--memory "128m" is below 192m/],
    [{ memory: '100000000' }, /--memory "100000000" is below 192m/],
    [{ port: 70000 }, /--port must be a port number/],
    [{ image: 'has space' }, /--image "has space"/],
    [{ out: join(out, 'with space') }, /output folder .* contains whitespace/],
    [{ source: join(out, 'missing.yaml') }, /cannot read .*missing\.yaml: file not found/],
  ];
  for (const [overrides, pattern] of cases) {
    await assert.rejects(deploy(request(out, overrides)), (error: Error) => {
      assert.ok(error instanceof DeployError, `${JSON.stringify(overrides)}: ${error.message}`);
      assert.match(error.message, pattern);
      return true;
    });
  }
});

test('fallback secrets reach the env example', async (t) => {
  const out = tempDir(t);
  const source = join(tempDir(t), 'routes.yaml');
  writeFileSync(
    source,
    `routes:
  - path: /api
    target: http://backend:3000
    auth: jwt
  - provider: stripe
    target: http://backend:3000/hooks
  - provider: github
    secret: \${GITHUB_SECRET}
    target: http://backend:3000/hooks
`,
  );
  const result = await deploy(request(out, { source }));
  const example = read(out, '.env.example');
  for (const name of ['JWT_SECRET', 'STRIPE_WEBHOOK_SECRET', 'GITHUB_SECRET']) {
    assert.match(example, new RegExp(`^${name}=$`, 'm'), `${name} in .env.example`);
  }
  assert.doesNotMatch(example, /GITHUB_WEBHOOK_SECRET=/, 'a route with a secret needs no fallback');
  assert.deepEqual(result.unsetVariables.sort(), [
    'GITHUB_SECRET',
    'JWT_SECRET',
    'STRIPE_WEBHOOK_SECRET',
  ]);
  assert.ok(
    result.notes.some((note) => note.includes('JWT_SECRET, STRIPE_WEBHOOK_SECRET')),
    result.notes.join('\n'),
  );

  const withValues = tempDir(t);
  const set = await deploy(
    request(withValues, {
      source,
      env: { JWT_SECRET: 'x'.repeat(40), STRIPE_WEBHOOK_SECRET: 'y' },
    }),
  );
  assert.deepEqual(set.unsetVariables, ['GITHUB_SECRET']);
  assert.match(read(withValues, '.env.example'), /^JWT_SECRET=$/m, 'listed even when set here');
});

test('memory sizes in podman units', () => {
  assert.equal(parseMemorySize('512m'), 512 * 2 ** 20);
  assert.equal(parseMemorySize('1G'), 2 ** 30);
  assert.equal(parseMemorySize('65536k'), 64 * 2 ** 20);
  assert.equal(parseMemorySize('4096b'), 4096);
  assert.equal(parseMemorySize('4096'), 4096);
  for (const bad of ['', 'm', '1.5g', '-1m', '1t', '512 m', '512mb']) {
    assert.equal(parseMemorySize(bad), undefined, bad);
  }
});

test('heap flags follow the memory limit', () => {
  const MiB = 2 ** 20;
  assert.deepEqual(nodeHeapFlags(512 * MiB), [
    '--max-old-space-size=256',
    '--max-semi-space-size=16',
  ]);
  assert.deepEqual(nodeHeapFlags(192 * MiB), [
    '--max-old-space-size=96',
    '--max-semi-space-size=6',
  ]);
  assert.deepEqual(nodeHeapFlagsForSize('512m'), nodeHeapFlags(512 * MiB));
  assert.throws(() => nodeHeapFlagsForSize('lots'), /invalid memory size "lots"/);
  assert.deepEqual(nodeHeapFlags(4 * 1024 * MiB), [
    '--max-old-space-size=2048',
    '--max-semi-space-size=16',
  ]);
});

test('unit NODE_OPTIONS work in Node', async (t) => {
  for (const memory of ['512m', '1g']) {
    const out = tempDir(t);
    await deploy(request(out, { memory }));
    const unit = read(out, 'gw-gateway.container');
    const options = values(unit, 'Container', 'Environment').filter((entry) =>
      entry.includes('NODE_OPTIONS='),
    );
    assert.equal(options.length, 1, memory);
    // systemd quoting: the whole assignment is one quoted word, so the space stays in the value.
    const quoted = /^"NODE_OPTIONS=([^"]+)"$/.exec(options[0] ?? '');
    assert.ok(quoted, `${memory}: ${options[0]}`);
    const nodeOptions = quoted[1] ?? '';
    assert.deepEqual(nodeOptions.split(' '), nodeHeapFlags(parseMemorySize(memory) ?? 0));
    const child = spawnSync(
      process.execPath,
      ['-e', 'console.log(require("node:v8").getHeapStatistics().heap_size_limit)'],
      { env: { ...process.env, NODE_OPTIONS: nodeOptions }, encoding: 'utf8' },
    );
    assert.equal(child.status, 0, child.stderr);
    const limitMiB = Number(child.stdout.trim()) / 2 ** 20;
    const oldSpace = Number(/--max-old-space-size=(\d+)/.exec(nodeOptions)?.[1]);
    // The heap limit is the old generation plus the young generation (three semi-spaces).
    assert.ok(limitMiB >= oldSpace, `${memory}: ${limitMiB} MiB`);
    assert.ok(limitMiB <= oldSpace + 48, `${memory}: ${limitMiB} MiB`);
  }
});
