import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { builtinLoadOptions } from '../cli/builtins.js';
import { createGateway, loadConfig } from '../core/index.js';
import { stripeRequest, waitFor } from './delivery-helpers.js';
import { startUpstream, writeConfig } from './helpers.js';

const run = promisify(execFile);
const SECRET = 'whsec_cli_test_secret';

async function pactown(
  ...args: string[]
): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, ['dist/cli/index.js', ...args], {
      timeout: 20_000,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

test('deliveries cli lists, shows and replays', { timeout: 60_000 }, async (t) => {
  let failing = true;
  const target = await startUpstream((_request, response) => {
    response.writeHead(failing ? 500 : 200);
    response.end();
  });
  t.after(() => target.close());
  const storage = mkdtempSync(join(tmpdir(), 'pactown-cli-'));
  const config = writeConfig(`
storage:
  path: ${storage}
queue:
  poll_interval: 20ms
routes:
  - path: /webhooks/stripe
    provider: stripe
    secret: ${SECRET}
    delivery: queue
    target: ${target.url}
    retry_schedule: []
`);
  const missing = await pactown('deliveries', 'list', '--config', config);
  assert.equal(missing.code, 2, 'no store before the gateway ran');
  assert.match(missing.stderr, /no delivery store at/);

  const gateway = await createGateway(await loadConfig(config, builtinLoadOptions({})), {
    logger: false,
  });
  t.after(() => gateway.close());
  const url = await gateway.listen(0, '127.0.0.1');
  const { body, headers } = stripeRequest('evt_cli_1', SECRET);
  const response = await fetch(`${url}/webhooks/stripe`, { method: 'POST', body, headers });
  const { delivery_id: id } = (await response.json()) as { delivery_id: string };
  await waitFor(() => target.requests.length === 1, 5_000, 'the failed attempt');

  await waitFor(
    async () => {
      const listed = await pactown(
        'deliveries',
        'list',
        '--config',
        config,
        '--status',
        'dead',
        '--json',
      );
      return JSON.parse(listed.stdout).deliveries.length === 1;
    },
    10_000,
    'the dead letter in the CLI listing',
  );
  const table = await pactown('deliveries', 'list', '--config', config);
  assert.equal(table.code, 0);
  assert.match(table.stdout, new RegExp(`${id}\\s+dead`));

  const shown = await pactown('deliveries', 'show', id, '--config', config);
  assert.equal(shown.code, 0);
  const detail = JSON.parse(shown.stdout);
  assert.equal(detail.event_id, 'evt_cli_1');
  assert.equal(detail.attempt_log[0].status, 500);
  assert.equal(detail.dead_reason, 'retry schedule used up after 1 attempts');

  const bad = await pactown('deliveries', 'replay', '--config', config, '--status', 'lost');
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /status "lost" is invalid/);
  const unknown = await pactown('deliveries', 'show', 'dlv_nope', '--config', config);
  assert.equal(unknown.code, 1);

  failing = false;
  const replayed = await pactown('deliveries', 'replay', id, '--config', config);
  assert.equal(replayed.code, 0, replayed.stderr);
  await waitFor(() => target.requests.length === 2, 5_000, 'the replayed delivery at the target');
  assert.equal(target.requests[1].headers['x-pactown-delivery-id'], id);
  const byFilter = await pactown(
    'deliveries',
    'replay',
    '--config',
    config,
    '--provider',
    'stripe',
  );
  assert.equal(byFilter.code, 0);
  assert.match(byFilter.stdout, /replayed (0 deliveries|1 delivery)$/m);
});

test('deliveries cli ignores unset route variables', { timeout: 60_000 }, async () => {
  const storage = mkdtempSync(join(tmpdir(), 'pactown-cli-'));
  const routes = `routes:
  - path: /webhooks/stripe
    provider: stripe
    secret: \${PACTOWN_TEST_UNSET_STRIPE_SECRET}
    delivery: queue
    target: \${PACTOWN_TEST_UNSET_TARGET}
`;
  const config = writeConfig(`storage:\n  path: ${storage}\n${routes}`);
  const gateway = await createGateway(
    await loadConfig(
      config,
      builtinLoadOptions({
        PACTOWN_TEST_UNSET_STRIPE_SECRET: SECRET,
        PACTOWN_TEST_UNSET_TARGET: 'http://127.0.0.1:9/hook',
      }),
    ),
    { logger: false },
  );
  await gateway.close();

  const listed = await pactown('deliveries', 'list', '--config', config, '--json');
  assert.equal(listed.code, 0, listed.stderr);
  assert.deepEqual(JSON.parse(listed.stdout).deliveries, []);

  const unsetStorage = writeConfig(`storage:\n  path: \${PACTOWN_TEST_UNSET_STORAGE}\n${routes}`);
  const failed = await pactown('deliveries', 'list', '--config', unsetStorage);
  assert.equal(failed.code, 1, 'an invalid config exits with 1');
  assert.match(failed.stderr, /PACTOWN_TEST_UNSET_STORAGE is not set/);
  assert.doesNotMatch(failed.stderr, /PACTOWN_TEST_UNSET_STRIPE_SECRET/);
});
