import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { type TestContext, test } from 'node:test';
import { stripeRequest, waitFor } from './delivery-helpers.js';
import { startUpstream, writeConfig } from './helpers.js';

const EVENTS = 80;
const KILL_AFTER_ACKS = 30;

/** Starts `pactown start` in a child process; resolves with its URL once it listens. */
async function startChild(
  t: TestContext,
  config: string,
): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(
    process.execPath,
    ['dist/cli/index.js', 'start', '--config', config, '--port', '0'],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  t.after(() => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
    }
  });
  const lines = createInterface({ input: child.stdout! });
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error('the child gateway did not start in 10 s')),
      10_000,
    );
    child.once('exit', (code) => reject(new Error(`the child gateway exited with ${code}`)));
    lines.on('line', (line) => {
      const entry = JSON.parse(line) as { msg?: string; url?: string };
      if (entry.msg === 'gateway started' && entry.url) {
        clearTimeout(timer);
        resolve(entry.url);
      }
    });
  });
  return { child, url };
}

async function post(url: string, id: string): Promise<number | undefined> {
  const { body, headers } = stripeRequest(id, 'whsec_crash_test_secret');
  try {
    const response = await fetch(`${url}/webhooks/stripe`, { method: 'POST', body, headers });
    await response.arrayBuffer();
    return response.status;
  } catch {
    return undefined;
  }
}

test('sigkill mid-stream loses no acknowledged webhook', { timeout: 60_000 }, async (t) => {
  let backendUp = false;
  const deliveryIds = new Map<string, Set<string>>();
  const backend = await startUpstream((request, response) => {
    if (!backendUp) {
      response.writeHead(503);
      response.end();
      return;
    }
    const eventId = JSON.parse(request.body.toString()).id as string;
    const ids = deliveryIds.get(eventId) ?? new Set<string>();
    ids.add(String(request.headers['x-pactown-delivery-id']));
    deliveryIds.set(eventId, ids);
    response.end('ok');
  });
  t.after(() => backend.close());
  const storage = mkdtempSync(join(tmpdir(), 'pactown-crash-'));
  const config = writeConfig(`
server:
  log_level: info
storage:
  path: ${storage}
queue:
  poll_interval: 50ms
  retry_jitter: 0
routes:
  - path: /webhooks/stripe
    provider: stripe
    secret: whsec_crash_test_secret
    delivery: queue
    target: ${backend.url}/events
    retry_schedule: [100ms, 100ms, 100ms, 100ms, 100ms, 100ms, 100ms, 100ms, 100ms, 100ms, 100ms, 100ms, 100ms, 100ms, 100ms, 100ms, 100ms, 100ms, 100ms, 100ms]
`);
  const events = Array.from({ length: EVENTS }, (_, index) => `evt_crash_${index}`);
  const acknowledged = new Set<string>();

  const first = await startChild(t, config);
  let next = 0;
  const sender = async () => {
    while (
      next < events.length &&
      first.child.exitCode === null &&
      first.child.signalCode === null
    ) {
      const id = events[next++];
      const status = await post(first.url, id);
      if (status !== undefined && status >= 200 && status < 300) {
        acknowledged.add(id);
        if (acknowledged.size === KILL_AFTER_ACKS) {
          first.child.kill('SIGKILL');
        }
      }
    }
  };
  await Promise.all([sender(), sender(), sender(), sender()]);
  if (first.child.exitCode === null && first.child.signalCode === null) {
    await new Promise((resolve) => first.child.once('exit', resolve));
  }
  t.diagnostic(`acknowledged ${acknowledged.size} of ${next} sent before the kill`);
  assert.ok(acknowledged.size >= KILL_AFTER_ACKS);
  assert.ok(next < EVENTS, 'the kill came mid-stream');

  backendUp = true;
  const second = await startChild(t, config);
  const resent: Record<string, number | undefined> = {};
  for (const id of events) {
    resent[id] = await post(second.url, id);
  }
  for (const id of acknowledged) {
    assert.equal(
      resent[id],
      200,
      `${id} was acknowledged before the kill, so its re-send is a duplicate`,
    );
  }
  for (const id of events) {
    assert.ok(resent[id] === 200 || resent[id] === 202, `${id} re-send got ${resent[id]}`);
  }
  await waitFor(() => deliveryIds.size === EVENTS, 20_000, 'every event at the backend');
  for (const id of events) {
    assert.equal(deliveryIds.get(id)?.size, 1, `${id} has one delivery id, so it was queued once`);
  }
  second.child.kill('SIGTERM');
  await new Promise((resolve) => second.child.once('exit', resolve));
  assert.equal(second.child.exitCode, 0, 'SIGTERM stops the gateway cleanly');
});
