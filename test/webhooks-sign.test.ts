import assert from 'node:assert/strict';
import { execFile, execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, test } from 'node:test';
import { promisify } from 'node:util';
import { startGatewayFor, startUpstream } from './helpers.js';
import { send, standardSecret, stripeSignature } from './webhooks-support.js';

const CLI = resolve('dist/cli/index.js');
const STANDARD_SECRET = standardSecret('c');

/** Runs `pactown sign` and splits its output into headers and the curl line. */
function runSign(args: string[]): { headers: Record<string, string>; curl: string } {
  const output = execFileSync(process.execPath, [CLI, 'sign', ...args], {
    encoding: 'utf8',
    timeout: 20_000,
  });
  const [head, curl] = output.split('\n\n');
  const headers: Record<string, string> = {};
  for (const line of head.split('\n')) {
    if (line.startsWith('#')) {
      continue;
    }
    const separator = line.indexOf(': ');
    headers[line.slice(0, separator).toLowerCase()] = line.slice(separator + 2);
  }
  return { headers, curl: curl.trim() };
}

function writeEvent(body: string | Buffer): string {
  const file = join(mkdtempSync(join(tmpdir(), 'pactown-sign-')), 'event.json');
  writeFileSync(file, body);
  return file;
}

describe('pactown sign', () => {
  test('prints the header stripe-node would make', () => {
    const payload = '{"id":"evt_cli","type":"charge.succeeded"}\n';
    const file = writeEvent(payload);
    const { headers, curl } = runSign([
      'stripe',
      '--secret',
      'whsec_cli',
      '--timestamp',
      '1700000000',
      file,
    ]);
    assert.equal(headers['stripe-signature'], stripeSignature(payload, 'whsec_cli', 1_700_000_000));
    assert.equal(headers['content-type'], 'application/json');
    assert.match(curl, /^curl -sS -X POST 'http:\/\/127\.0\.0\.1:8080\/webhooks\/stripe'/);
    assert.ok(curl.includes(`--data-binary @'${file}'`), curl);
  });

  test('signs requests that each built-in route accepts', async (t) => {
    const upstream = await startUpstream();
    t.after(() => upstream.close());
    const { url } = await startGatewayFor(
      t,
      `
routes:
  - provider: stripe
    secret: whsec_cli
    target: ${upstream.url}
  - provider: github
    secret: github-cli
    target: ${upstream.url}
  - provider: inpost
    secret: inpost-cli
    target: ${upstream.url}
  - provider: inpost
    path: /webhooks/inpost-hmac
    mode: hmac
    secret: inpost-cli
    target: ${upstream.url}
  - provider: allegro
    secret: allegro-cli
    target: ${upstream.url}
  - provider: standard-webhooks
    secret: ${STANDARD_SECRET}
    target: ${upstream.url}
`,
    );
    const body = Buffer.from('{"id":"evt_signed","type":"order.created"}\r\n');
    const file = writeEvent(body);
    const cases: [string, string, string[]][] = [
      ['/webhooks/stripe', 'stripe', ['--secret', 'whsec_cli']],
      ['/webhooks/github', 'github', ['--secret', 'github-cli']],
      ['/webhooks/inpost', 'inpost', ['--secret', 'inpost-cli']],
      ['/webhooks/inpost-hmac', 'inpost', ['--secret', 'inpost-cli', '--option', 'mode=hmac']],
      ['/webhooks/allegro', 'allegro', ['--secret', 'allegro-cli']],
      ['/webhooks/standard-webhooks', 'standard-webhooks', ['--secret', STANDARD_SECRET]],
    ];
    for (const [path, provider, args] of cases) {
      const { headers } = runSign([provider, ...args, file]);
      const response = await send(`${url}${path}`, { body, headers });
      assert.equal(response.status, 200, `${path}: ${response.text}`);
      assert.ok(upstream.requests.at(-1)?.body.equals(body), path);
    }
  });

  test('prints a curl line that the route accepts', async (t) => {
    const curl = spawnSync('curl', ['--version'], { timeout: 10_000 });
    if (curl.status !== 0) {
      t.skip('curl is not installed');
      return;
    }
    const { url } = await startGatewayFor(t, 'routes:\n  - provider: github\n    secret: gh\n');
    const file = writeEvent('{"zen":"curl"}');
    const { curl: line } = runSign([
      'github',
      '--secret',
      'gh',
      '--url',
      `${url}/webhooks/github`,
      file,
    ]);
    // Asynchronous, so the gateway in this process can respond while curl runs.
    const result = await promisify(execFile)('sh', ['-c', `${line} -w '\\n%{http_code}'`], {
      encoding: 'utf8',
      timeout: 20_000,
    });
    assert.equal(result.stdout.trim().split('\n').at(-1), '200', result.stdout);
  });

  test('reads the secret from env or file', () => {
    const payload = '{"id":"evt_env"}';
    const file = writeEvent(payload);
    const expected = stripeSignature(payload, 'whsec_hidden', 1_700_000_000);
    const fromEnv = execFileSync(
      process.execPath,
      [
        CLI,
        'sign',
        'stripe',
        '--secret-env',
        'SIGN_TEST_SECRET',
        '--timestamp',
        '1700000000',
        file,
      ],
      {
        encoding: 'utf8',
        timeout: 20_000,
        env: { ...process.env, SIGN_TEST_SECRET: 'whsec_hidden' },
      },
    );
    assert.ok(fromEnv.includes(expected), fromEnv);
    const secretFile = writeEvent('whsec_hidden\n');
    const fromFile = runSign([
      'stripe',
      '--secret-file',
      secretFile,
      '--timestamp',
      '1700000000',
      file,
    ]);
    assert.equal(fromFile.headers['stripe-signature'], expected, 'the trailing newline is dropped');
  });

  test('rejects an unknown provider and a missing secret', () => {
    const file = writeEvent('{}');
    for (const args of [
      ['nope', '--secret', 'x', file],
      ['stripe', file],
      ['stripe', '--secret', 'x', '--timestamp', 'noon', file],
      ['stripe', '--secret-env', 'PACTOWN_TEST_UNSET_VARIABLE', file],
      ['stripe', '--secret-file', join(tmpdir(), 'pactown-missing-secret-file'), file],
      ['stripe', '--secret', 'x', '--secret-env', 'HOME', file],
      ['stripe', '--secret', 'x', join(tmpdir(), 'pactown-missing-event.json')],
    ]) {
      const result = spawnSync(process.execPath, [CLI, 'sign', ...args], {
        encoding: 'utf8',
        timeout: 20_000,
      });
      assert.equal(result.status, 2, `${args.join(' ')}: ${result.stderr}`);
      assert.doesNotMatch(result.stderr, /\n\s+at /, 'no stack trace');
    }
  });
});
