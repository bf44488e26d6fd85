import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const SCRIPT = join(
  dirname(fileURLToPath(import.meta.url)),
  '..',
  'cli',
  'quadlet',
  'healthcheck.js',
);
const run = promisify(execFile);

/** Runs the probe against `url`; resolves with its exit code and stderr. */
async function probe(url: string): Promise<{ code: number; stderr: string }> {
  try {
    const { stderr } = await run(process.execPath, [SCRIPT, url], { timeout: 20_000 });
    return { code: 0, stderr };
  } catch (error) {
    const failed = error as { code?: number; stderr?: string };
    return { code: failed.code ?? -1, stderr: failed.stderr ?? '' };
  }
}

test('health probe exit codes', async (t) => {
  const server = createServer((request, response) => {
    const bodies: Record<string, [number, string]> = {
      '/ok': [200, '{"status":"ok","routes":2}'],
      '/down': [503, '{"status":"down"}'],
      '/starting': [200, '{"status":"starting"}'],
      '/html': [200, '<html>ok</html>'],
    };
    const [status, body] = bodies[request.url ?? ''] ?? [404, '{}'];
    response.writeHead(status, { 'content-type': 'application/json' });
    response.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => server.close());
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  assert.equal((await probe(`${base}/ok`)).code, 0);
  const down = await probe(`${base}/down`);
  assert.equal(down.code, 1);
  assert.match(down.stderr, /returned 503/);
  assert.equal((await probe(`${base}/starting`)).code, 1);
  assert.equal((await probe(`${base}/html`)).code, 1);
});

test('health probe of a closed port fails', async () => {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  const result = await probe(`http://127.0.0.1:${port}/health`);
  assert.equal(result.code, 1);
  assert.match(result.stderr, /health check failed/);
});
