import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { builtinLoadOptions } from '../cli/builtins.js';
import { createGateway, loadConfig } from '../core/index.js';
import { startUpstream } from './helpers.js';
import { send } from './webhooks-support.js';

const run = promisify(execFile);
// dist/test/this-file.js sits two folders below the repository root.
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const PACKAGE_DIR = join(ROOT, 'examples', 'pactown-plugin-shopify');
const SECRET = 'shpss_community_test';

function shopifyHmac(body: string, secret = SECRET): string {
  return createHmac('sha256', secret).update(body).digest('base64');
}

/**
 * Installs the example package into a fresh project folder the way docs/writing-a-provider.md
 * describes: `npm pack`, then the tarball unpacked into node_modules, next to a link to this
 * gateway (standing in for `npm install pactown-gateway`, which would need the registry).
 */
async function installIntoProject(): Promise<string> {
  const project = mkdtempSync(join(tmpdir(), 'pactown-community-'));
  const { stdout } = await run('npm', ['pack', '--json', '--pack-destination', project], {
    cwd: PACKAGE_DIR,
    timeout: 60_000,
    env: { ...process.env, npm_config_update_notifier: 'false' },
  });
  const [{ filename }] = JSON.parse(stdout) as { filename: string }[];
  const installed = join(project, 'node_modules', 'pactown-plugin-shopify');
  mkdirSync(installed, { recursive: true });
  await run('tar', ['-xzf', join(project, filename), '-C', installed, '--strip-components=1'], {
    timeout: 60_000,
  });
  symlinkSync(ROOT, join(project, 'node_modules', 'pactown-gateway'), 'dir');
  return project;
}

describe('community provider package', () => {
  let project: string;

  before(async () => {
    project = await installIntoProject();
  });

  test('loads by package name and verifies Shopify webhooks', async (t) => {
    const upstream = await startUpstream();
    t.after(() => upstream.close());
    const file = join(project, 'gateway.yaml');
    writeFileSync(
      file,
      `plugins: [pactown-plugin-shopify]\nroutes:\n  - provider: shopify\n    secret: ${SECRET}\n    target: ${upstream.url}\n`,
    );
    const loaded = await loadConfig(file, builtinLoadOptions({}));
    assert.equal(
      loaded.registry.sourceOf(loaded.registry.get('webhook-provider', 'shopify')!),
      'pactown-plugin-shopify',
    );
    const gateway = await createGateway(loaded, { logger: false, env: {} });
    t.after(() => gateway.close());
    const url = `${await gateway.listen(0, '127.0.0.1')}/webhooks/shopify`;
    const body = '{"id":820982911946154508,"email":"jon@example.com"}';
    const headers = {
      'content-type': 'application/json',
      'x-shopify-topic': 'orders/create',
      'x-shopify-webhook-id': 'b54557e4-bdd9-4b37-8a5f-bf7d70bcd043',
    };

    const accepted = await send(url, {
      body,
      headers: { ...headers, 'x-shopify-hmac-sha256': shopifyHmac(body) },
    });
    assert.equal(accepted.status, 200, accepted.text);
    assert.equal(upstream.requests[0].headers['x-pactown-provider'], 'shopify');
    assert.equal(upstream.requests[0].headers['x-pactown-event-type'], 'orders/create');

    const duplicate = await send(url, {
      body,
      headers: { ...headers, 'x-shopify-hmac-sha256': shopifyHmac(body) },
    });
    assert.deepEqual(duplicate.json, { status: 'duplicate' });

    const wrong = await send(url, {
      body,
      headers: { ...headers, 'x-shopify-hmac-sha256': shopifyHmac(body, 'other') },
    });
    assert.equal(wrong.status, 401);
    assert.equal(wrong.json.reason, 'signature_mismatch');
    const malformed = await send(url, {
      body,
      headers: { ...headers, 'x-shopify-hmac-sha256': 'abc' },
    });
    assert.equal(malformed.json.reason, 'signature_malformed');
    assert.equal(upstream.requests.length, 1);
  });

  test('rejects unknown keys on its routes', async () => {
    const file = join(project, 'typo.yaml');
    writeFileSync(
      file,
      `plugins: [pactown-plugin-shopify]\nroutes:\n  - provider: shopify\n    secret: s\n    topic: x\n`,
    );
    await assert.rejects(loadConfig(file, builtinLoadOptions({})), /unknown key "topic"/);
  });

  test('signs with pactown sign --plugin', async (t) => {
    const file = join(project, 'hooks.yaml');
    writeFileSync(
      file,
      `plugins: [pactown-plugin-shopify]\nroutes:\n  - provider: shopify\n    secret: ${SECRET}\n`,
    );
    const gateway = await createGateway(await loadConfig(file, builtinLoadOptions({})), {
      logger: false,
      env: {},
    });
    t.after(() => gateway.close());
    const url = await gateway.listen(0, '127.0.0.1');
    const event = join(project, 'order.json');
    writeFileSync(event, '{"id":1}');
    const { stdout } = await run(
      process.execPath,
      [
        join(ROOT, 'dist', 'cli', 'index.js'),
        'sign',
        'shopify',
        '--plugin',
        'pactown-plugin-shopify',
        '--secret',
        SECRET,
        event,
      ],
      { cwd: project, timeout: 20_000 },
    );
    const headers = Object.fromEntries(
      stdout
        .split('\n\n')[0]
        .split('\n')
        .map((line) => [line.slice(0, line.indexOf(': ')), line.slice(line.indexOf(': ') + 2)]),
    );
    const response = await send(`${url}/webhooks/shopify`, { body: '{"id":1}', headers });
    assert.equal(response.status, 200, response.text);
  });
});
