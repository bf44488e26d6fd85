import assert from 'node:assert/strict';
import { execFileSync, type SpawnSyncReturns, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { type TestContext, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import {
  deploy,
  findQuadletGenerator,
  formatVersion,
  MIN_QUADLET_VERSION,
  type PodmanVersion,
  parsePodmanVersion,
} from '../cli/quadlet/index.js';

const FIXTURES = join(
  dirname(fileURLToPath(import.meta.url)),
  '..',
  '..',
  'test',
  'fixtures',
  'quadlet',
);

/** The generator's version: `quadlet --version` from 4.5, else `podman --version`, else 4.4. */
function generatorVersion(generator: string): PodmanVersion {
  for (const [command, args] of [
    [generator, ['--version']],
    ['podman', ['--version']],
  ] as const) {
    try {
      const version = parsePodmanVersion(
        execFileSync(command, args, { encoding: 'utf8', stdio: 'pipe' }),
      );
      if (version) {
        return version;
      }
    } catch {
      // quadlet 4.4 has no --version, and podman may be missing; try the next source.
    }
  }
  return MIN_QUADLET_VERSION;
}

function tempDir(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'pactown-quadlet-dryrun-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test('quadlet dry run accepts generated units', async (t) => {
  const generator = findQuadletGenerator();
  if (!generator) {
    t.skip(
      'no Quadlet generator (podman 4.4 or newer) found; set PACTOWN_QUADLET to its path to run this test',
    );
    return;
  }
  const installed = generatorVersion(generator);
  const targets = [MIN_QUADLET_VERSION, installed];
  const layouts = [
    { source: join(FIXTURES, 'gateway.yaml'), tls: false },
    { source: join(FIXTURES, 'README.md'), tls: true },
  ];
  for (const target of targets) {
    for (const layout of layouts) {
      const label = `podman ${formatVersion(target)}, tls ${layout.tls}`;
      const out = tempDir(t);
      await deploy({
        ...layout,
        tenant: 'gw',
        domain: 'example.com',
        subdomain: 'api',
        out,
        image: 'localhost/pactown-gateway:latest',
        memory: '512m',
        podmanVersion: target,
        env: {},
      });
      const modes: string[][] = [[], ['-user']];
      for (const mode of modes) {
        const result: SpawnSyncReturns<string> = spawnSync(generator, ['-dryrun', ...mode], {
          env: { ...process.env, QUADLET_UNIT_DIRS: out },
          encoding: 'utf8',
          timeout: 30_000,
        });
        const where = `${label}, ${mode.join(' ') || 'system'} mode`;
        assert.equal(result.status, 0, `${where}: ${result.stderr}`);
        // Before podman 4.6 Quadlet exits 0 even when it rejects a unit, so stderr is checked too.
        const problems = result.stderr
          .split('\n')
          .filter((line) => /error|unsupported|invalid|failed/i.test(line));
        assert.deepEqual(problems, [], where);
        const services = ['gw-gateway', 'gw-network', 'gw-data-volume'];
        if (layout.tls) {
          services.push('gw-caddy', 'gw-caddy-data-volume', 'gw-caddy-config-volume');
        }
        for (const service of services) {
          assert.ok(
            result.stdout.includes(`---${service}.service---`),
            `${where}: no ${service}.service`,
          );
        }
        const gateway = result.stdout.split('---gw-gateway.service---')[1] ?? '';
        const execStart = /^ExecStart=(.*)$/m.exec(gateway)?.[1] ?? '';
        assert.match(execStart, /--read-only/, where);
        assert.match(execStart, /--network systemd-gw/, where);
        assert.match(execStart, new RegExp(`--env-file ${join(out, '.env')}`), where);
        assert.match(execStart, /--memory=512m/, where);
        assert.match(
          execStart,
          /--health-cmd[= ]"?node \/app\/dist\/cli\/quadlet\/healthcheck\.js/,
          where,
        );
        assert.match(
          execStart,
          /localhost\/pactown-gateway:latest start --config \/etc\/pactown\/gateway\.yaml/,
          where,
        );
      }
    }
  }
});
