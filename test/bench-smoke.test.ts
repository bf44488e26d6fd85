import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type ContenderResult, runBench } from '../bench/harness.js';
import { checkGoals, renderReport } from '../bench/report.js';

// Contenders that depend only on this harness, the core proxy and installed peers must respond
// 2xx. The others depend on policies and webhook delivery, and must at least respond.
const MUST_SUCCEED = ['upstream', 'pactown-proxy', 'fastify-http-proxy', 'fast-gateway', 'nginx'];

function assertAnswered(result: ContenderResult): void {
  if (result.skipped) {
    assert.ok(result.skipped.length > 0, `${result.name} was skipped without a reason`);
    return;
  }
  assert.ok(result.runs.length > 0, `${result.name} has no runs`);
  for (const run of result.runs) {
    assert.ok(run.result.responses > 0, `${result.name} got no responses (${run.result.tool})`);
    if (MUST_SUCCEED.includes(result.name)) {
      assert.ok(run.result.rps > 0, `${result.name} answered no 2xx (${run.result.tool})`);
    }
  }
}

test('bench harness runs every contender', async () => {
  const lines: string[] = [];
  const results = await runBench({
    durationSeconds: 1,
    warmupSeconds: 0,
    rounds: 1,
    processes: 1,
    connections: [10],
    fixedRate: false,
    webhookRate: 0,
    tools: ['autocannon'],
    sections: ['proxy', 'webhooks', 'scale'],
    only: [],
    scaleRoutes: [1, 100],
    memory: '512m',
    log: (line) => lines.push(line),
  });

  assert.equal(results.upstreamSkipped, undefined);
  assert.equal(results.proxy.length, 9);
  assert.equal(results.webhooks.length, 4);
  for (const result of [...results.proxy, ...results.webhooks]) {
    assertAnswered(result);
  }
  for (const name of ['upstream', 'pactown-proxy', 'fastify-http-proxy', 'fast-gateway']) {
    const result = results.proxy.find((candidate) => candidate.name === name);
    assert.equal(result?.skipped, undefined, `${name} was skipped: ${result?.skipped}`);
  }
  const redisContenders = [...results.proxy, ...results.webhooks].filter(
    (result) => result.name.endsWith('-redis') || result.name.endsWith('-bullmq'),
  );
  assert.equal(redisContenders.length, 4);
  // The harness falls back to Redis on 127.0.0.1:6379. With REDIS_URL set, that Redis must respond.
  if (process.env.REDIS_URL) {
    for (const result of redisContenders) {
      assert.equal(result.skipped, undefined, `${result.name} was skipped: ${result.skipped}`);
    }
  }
  const nginx = results.proxy.find((candidate) => candidate.name === 'nginx');
  assert.ok(nginx && (nginx.runs.length > 0 || nginx.skipped?.includes('nginx')));

  assert.deepEqual(
    results.scale.map((entry) => entry.routes),
    [1, 100],
  );
  for (const entry of results.scale) {
    assert.equal(entry.skipped, undefined, `${entry.routes} routes skipped: ${entry.skipped}`);
    assert.ok(
      entry.first[0]?.result.rps > 0,
      `${entry.routes} routes: first route answered no 2xx`,
    );
    assert.ok(entry.last[0]?.result.rps > 0, `${entry.routes} routes: last route answered no 2xx`);
  }

  // The deploy unit's heap flags for 512m reach every Node contender: a 256 MiB old generation
  // plus the young generation, where Node's default on this host is several GiB.
  for (const result of [...results.proxy, ...results.webhooks]) {
    if (result.skipped || result.name === 'nginx') {
      continue;
    }
    const limitMiB = (result.heapLimitBytes ?? 0) / 2 ** 20;
    assert.ok(limitMiB >= 256, `${result.name}: heap limit ${limitMiB} MiB`);
    assert.ok(limitMiB <= 256 + 48, `${result.name}: heap limit ${limitMiB} MiB`);
  }

  const report = renderReport(results, 'npm run bench');
  assert.match(report, /--max-old-space-size=256 --max-semi-space-size=16/);
  assert.match(report, /### Proxy throughput, autocannon/);
  assert.match(report, /### Route scale/);
  if (process.env.REDIS_URL) {
    assert.match(report, /### Effect of Redis/);
  }
  assert.ok(checkGoals(results).length > 0);
});

test('bench runs rotate over processes', async () => {
  const results = await runBench({
    durationSeconds: 1,
    warmupSeconds: 0,
    rounds: 3,
    processes: 2,
    connections: [10],
    fixedRate: true,
    webhookRate: 0,
    tools: ['autocannon'],
    sections: ['proxy', 'scale'],
    only: ['pactown-proxy'],
    scaleRoutes: [1],
    memory: 'host',
    log: () => {},
  });

  const [proxy] = results.proxy;
  assert.deepEqual(
    proxy.runs.map((run) => run.process),
    [0, 1, 0],
  );
  for (const run of proxy.runs) {
    assert.ok(run.result.rps > 0, `process ${run.process} answered no 2xx`);
  }
  // Each process gets its own open-loop run at half the contender's median maximum.
  assert.deepEqual(
    proxy.fixedRate?.runs.map((run) => run.process),
    [0, 1],
  );
  assert.ok(proxy.fixedRate.rate >= 1);
  for (const run of proxy.fixedRate.runs) {
    assert.equal(run.result.tool, 'open-loop');
    assert.ok(run.result.rps > 0, `process ${run.process} answered no 2xx at a fixed rate`);
  }
  for (const run of proxy.fixedRate.runs) {
    assert.ok((run.result.generatorStallMs ?? -1) >= 0, 'the harness stall is measured');
  }
  // The row ends with the number of runs and the harness's longest stall.
  assert.match(
    renderReport(results, 'npm run bench'),
    /\| pactown, proxy route \|[^\n]*\| 2 \| \d+(\.\d+)? \|\n/,
  );
  const [scale] = results.scale;
  assert.deepEqual(
    scale.first.map((run) => run.process),
    [0, 1, 0],
  );
  assert.ok(scale.last.every((run) => run.result.rps > 0));
  assert.ok((scale.readyMs ?? 0) > 0);
});
