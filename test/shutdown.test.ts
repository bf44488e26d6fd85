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
  const upstream = await startUpstream(async (_request, response) => {
    await new Promise((resolve) => setTimeout(resolve, 500));
    response.end('late');
  });
  t.after(() => upstream.close());
  const gateway = await spawnGateway(
    t,
    writeConfig(`routes:\n  - path: /slow\n    target: ${upstream.url}\n`),
  );
  const inFlight = rawRequest(gateway.url, { path: '/slow' });
  await new Promise((resolve) => setTimeout(resolve, 100));
  gateway.child.kill('SIGTERM');
  await new Promise((resolve) => setTimeout(resolve, 150));
  await assert.rejects(
    rawRequest(gateway.url, { path: '/health' }),
    /ECONNREFUSED|ECONNRESET|socket hang up/,
  );
  assert.equal((await inFlight).status, 200);
  assert.equal(await gateway.exited, 0);
});
