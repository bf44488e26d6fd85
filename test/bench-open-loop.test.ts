import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { runOpenLoop } from '../bench/load.js';

test('open loop counts queueing delay', async (t) => {
  // One connection to a server that takes 50 ms per response serves 20 requests a second.
  const server = createServer((_request, response) => {
    setTimeout(() => response.end('ok'), 50);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => server.close());
  const { port } = server.address() as AddressInfo;

  const result = await runOpenLoop({
    url: `http://127.0.0.1:${port}`,
    request: { method: 'GET', path: '/' },
    connections: 1,
    durationSeconds: 1,
    rate: 40,
  });

  assert.equal(result.tool, 'open-loop');
  assert.equal(result.responses, 40);
  assert.equal(result.errors, 0);
  assert.deepEqual(result.statusCodes, { '200': 40 });
  // At 40 requests a second the last ones wait behind the first: about 1 s from when each was
  // due, where a generator that waits for each response would report 50 ms.
  assert.ok(result.latency.p99 > 500, `p99 ${result.latency.p99} ms`);
  assert.ok(result.latency.p50 >= 50, `p50 ${result.latency.p50} ms`);
});
