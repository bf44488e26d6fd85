import assert from 'node:assert/strict';
import { it } from 'node:test';
import { rawRequest, spawnGateway, startUpstream, writeConfig } from './helpers.js';

it('shutdown finishes an in-flight request', async (t) => {
  let release: () => void = () => {};
  const started = new Promise<void>((resolveStarted) => {
    release = resolveStarted;
  });
  const upstream = await startUpstream(async (_request, response) => {
    release();
    await new Promise((resolve) => setTimeout(resolve, 700));
    response.writeHead(200, { 'content-type': 'text/plain' });
    response.end('finished');
  });
  t.after(() => upstream.close());
  const config = writeConfig(`routes:\n  - path: /slow\n    target: ${upstream.url}\n`);
  const gateway = await spawnGateway(t, config);
  const inFlight = rawRequest(gateway.url, { path: '/slow' });
  await started;
  gateway.child.kill('SIGTERM');
  const response = await inFlight;
  assert.equal(response.status, 200);
  assert.equal(response.body, 'finished');
  assert.equal(await gateway.exited, 0);
  const messages = gateway.logs.map((entry) => entry.msg);
  assert.ok(messages.includes('gateway stopping'), JSON.stringify(messages));
  assert.ok(messages.includes('gateway stopped'), JSON.stringify(messages));
});

it('shutdown refuses new connections', async (t) => {
  let release: () => void = () => {};
  const started = new Promise<void>((resolveStarted) => {
    release = resolveStarted;
  });
  const upstream = await startUpstream(async (_request, response) => {
    release();
    await new Promise((resolve) => setTimeout(resolve, 2000));
    response.end('late');
  });
  t.after(() => upstream.close());
  const gateway = await spawnGateway(
    t,
    writeConfig(`routes:\n  - path: /slow\n    target: ${upstream.url}\n`),
  );
  let inFlightDone = false;
  const inFlight = rawRequest(gateway.url, { path: '/slow' }).finally(() => {
    inFlightDone = true;
  });
  await started;
  gateway.child.kill('SIGTERM');
  // Poll until the listener is closed; the in-flight request is still waiting on its upstream.
  let refused = false;
  for (let attempt = 0; attempt < 30 && !refused; attempt++) {
    try {
      await rawRequest(gateway.url, { path: '/health' });
      await new Promise((resolve) => setTimeout(resolve, 50));
    } catch (error) {
      assert.match(String(error), /ECONNREFUSED|ECONNRESET|socket hang up/);
      refused = true;
    }
  }
  assert.ok(refused, 'new connections were still accepted after SIGTERM');
  assert.equal(inFlightDone, false, 'the in-flight request ended before the listener closed');
  assert.equal((await inFlight).status, 200);
  assert.equal(await gateway.exited, 0);
});

it('start line reports the heap limit', async (t) => {
  const upstream = await startUpstream((_request, response) => {
    response.end('ok');
  });
  t.after(() => upstream.close());
  const config = writeConfig(`routes:\n  - path: /api\n    target: ${upstream.url}\n`);
  const gateway = await spawnGateway(t, config, {
    NODE_OPTIONS: '--max-old-space-size=256 --max-semi-space-size=16',
  });
  const started = gateway.logs.find((entry) => entry.msg === 'gateway started');
  const limit = Number(started?.heap_limit_mib);
  // The old generation of 256 MiB plus the young generation, three semi-spaces of 16 MiB.
  assert.ok(limit >= 256, `heap_limit_mib ${started?.heap_limit_mib}`);
  assert.ok(limit <= 256 + 48, `heap_limit_mib ${started?.heap_limit_mib}`);
  gateway.child.kill('SIGTERM');
  assert.equal(await gateway.exited, 0);
});
