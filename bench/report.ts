import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import type {
  BenchResults,
  ContenderResult,
  FixedRateRuns,
  RunRecord,
  ScaleResult,
} from './harness.js';
import { describeFailures, heapFlags, median } from './harness.js';
import { findWrk, type LoadResult } from './load.js';
import { findNginx } from './nginx.js';

/** The markers between which the harness rewrites docs/benchmarks.md; text outside them stays. */
export const BEGIN_MARKER = '<!-- bench:begin (written by npm run bench; edits here are lost) -->';
export const END_MARKER = '<!-- bench:end -->';

const MiB = 2 ** 20;

/** Describes the machine and the software versions of a run. */
export function machineDetails(): Record<string, string> {
  const cpus = os.cpus();
  const require = createRequire(import.meta.url);
  const version = (name: string) => {
    try {
      const file = require.resolve(`${name}/package.json`);
      return (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version;
    } catch {
      return 'not installed';
    }
  };
  return {
    CPU: `${cpus[0]?.model ?? 'unknown'}, ${cpus.length} cores`,
    memory: `${(os.totalmem() / 2 ** 30).toFixed(1)} GiB`,
    OS: `${os.type()} ${os.release()} (${os.arch()})`,
    Node: process.version,
    'load generators': `autocannon ${version('autocannon')}; ${wrkVersion()}`,
    peers: `fastify ${version('fastify')} + @fastify/http-proxy ${version('@fastify/http-proxy')}; fast-gateway ${version('fast-gateway')}; ${findNginx()?.version ?? 'nginx not installed'}`,
    gateway: `fastify ${version('fastify')}, @fastify/http-proxy ${version('@fastify/http-proxy')}, undici ${version('undici')}`,
  };
}

function wrkVersion(): string {
  const wrk = findWrk();
  if (!wrk) {
    return 'wrk not installed';
  }
  try {
    execFileSync(wrk, ['-v'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (error) {
    // wrk -v prints its version and exits with status 1.
    const output = String((error as { stdout?: string }).stdout ?? '');
    return output.split('\n')[0]?.split(' [')[0] || 'wrk';
  }
  return 'wrk';
}

/** Median, min and max of one contender's runs at one connection count with one tool. */
interface Summary {
  rps: number;
  min: number;
  max: number;
  p50: number;
  p99: number;
  peakRssBytes?: number;
  cores?: number;
  /** CPU time of the contender per 2xx response, in microseconds; steadier than req/s on a busy machine. */
  cpuMicros?: number;
  non2xx: number;
  errors: number;
  /** Non-2xx status codes and connection errors over all runs, or empty when there were none. */
  failures: string;
  count: number;
}

function summarize(runs: RunRecord[]): Summary | undefined {
  if (runs.length === 0) {
    return undefined;
  }
  const rates = runs.map((run) => run.result.rps);
  const rss = runs.map((run) => run.peakRssBytes).filter((value) => value !== undefined);
  const cores = runs.map((run) => run.cores).filter((value) => value !== undefined);
  return {
    rps: median(rates),
    min: Math.min(...rates),
    max: Math.max(...rates),
    p50: median(runs.map((run) => run.result.latency.p50)),
    p99: median(runs.map((run) => run.result.latency.p99)),
    peakRssBytes: rss.length > 0 ? Math.max(...rss) : undefined,
    cores: cores.length > 0 ? median(cores) : undefined,
    cpuMicros: cpuPerResponse(runs),
    non2xx: runs.reduce((sum, run) => sum + run.result.non2xx, 0),
    errors: runs.reduce((sum, run) => sum + run.result.errors, 0),
    failures: failuresOf(runs.map((run) => run.result)),
    count: runs.length,
  };
}

function cpuPerResponse(runs: RunRecord[]): number | undefined {
  const values = runs
    .filter((run) => run.cores !== undefined && run.result.rps > 0)
    .map((run) => (run.cores! / run.result.rps) * 1e6);
  return values.length > 0 ? median(values) : undefined;
}

function failuresOf(results: LoadResult[]): string {
  const merged: LoadResult = { ...results[0], non2xx: 0, errors: 0, statusCodes: {} };
  for (const result of results) {
    merged.non2xx += result.non2xx;
    merged.errors += result.errors;
    for (const [code, count] of Object.entries(result.statusCodes ?? {})) {
      merged.statusCodes![code] = (merged.statusCodes![code] ?? 0) + count;
    }
  }
  return merged.non2xx + merged.errors > 0 ? describeFailures(merged) : '';
}

function runsOf(result: ContenderResult, tool: string, connections: number): RunRecord[] {
  return result.runs.filter((run) => run.result.tool === tool && run.connections === connections);
}

/** Returns the median figures of a contender, or undefined when it did not run. */
export function summaryOf(
  results: ContenderResult[],
  name: string,
  tool: string,
  connections: number,
): Summary | undefined {
  const result = results.find((candidate) => candidate.name === name);
  return result ? summarize(runsOf(result, tool, connections)) : undefined;
}

const GENERATOR_STALL_NOTE =
  "The harness stall is the longest time the load generator's own event loop was blocked in any of the runs. Requests due in that time went out late and count the delay, so a p99 close to it may come from the harness rather than from the contender.";

const integer = (value: number) => Math.round(value).toLocaleString('en-US');
const ms = (value: number | undefined) =>
  value === undefined || Number.isNaN(value)
    ? '–'
    : value < 10
      ? value.toFixed(2)
      : value.toFixed(1);
const mib = (bytes: number | undefined) =>
  bytes === undefined ? '–' : `${Math.round(bytes / MiB)}`;
const ratio = (value: number, reference: number | undefined) =>
  reference === undefined || reference === 0 || Number.isNaN(reference)
    ? '–'
    : `${(value / reference).toFixed(2)}×`;

const PEERS = [
  { name: 'upstream', title: '× upstream' },
  { name: 'fastify-http-proxy', title: '× @fastify/http-proxy' },
  { name: 'fast-gateway', title: '× fast-gateway' },
  { name: 'nginx', title: '× nginx' },
];

function throughputTable(
  results: ContenderResult[],
  tool: string,
  connections: number[],
): string[] {
  const lines = [
    `| contender | connections | req/s, median (min–max) | p50 ms | p99 ms | ${PEERS.map((peer) => peer.title).join(' | ')} | peak RSS MiB | CPU cores | CPU µs per request |`,
    `|---|---:|---:|---:|---:|${PEERS.map(() => '---:').join('|')}|---:|---:|---:|`,
  ];
  for (const connectionCount of connections) {
    for (const result of results) {
      const summary = summarize(runsOf(result, tool, connectionCount));
      if (!summary) {
        continue;
      }
      const ratios = PEERS.map((peer) =>
        ratio(summary.rps, summaryOf(results, peer.name, tool, connectionCount)?.rps),
      );
      const failures = summary.failures ? ` (${summary.failures})` : '';
      lines.push(
        `| ${result.label}${failures} | ${connectionCount} | ${integer(summary.rps)} (${integer(summary.min)}–${integer(summary.max)}) | ${ms(summary.p50)} | ${ms(summary.p99)} | ${ratios.join(' | ')} | ${mib(summary.peakRssBytes)} | ${summary.cores?.toFixed(2) ?? '–'} | ${summary.cpuMicros === undefined ? '–' : Math.round(summary.cpuMicros)} |`,
      );
    }
  }
  return lines;
}

/** Medians over the open-loop runs of one contender at one rate. */
interface FixedRateSummary {
  rate: number;
  rps: number;
  p50: number;
  p99: number;
  p99Min: number;
  p99Max: number;
  p999: number;
  peakRssBytes?: number;
  cores?: number;
  failures: string;
  count: number;
  /** The harness's longest event-loop stall in any of the runs, absent in older files. */
  generatorStallMs?: number;
}

function summarizeFixedRate(fixed: FixedRateRuns | undefined): FixedRateSummary | undefined {
  const summary = summarize(fixed?.runs ?? []);
  if (!fixed || !summary) {
    return undefined;
  }
  const p99s = fixed.runs.map((run) => run.result.latency.p99);
  return {
    ...summary,
    rate: fixed.rate,
    p99Min: Math.min(...p99s),
    p99Max: Math.max(...p99s),
    p999: median(fixed.runs.map((run) => run.result.latency.p999 ?? Number.NaN)),
    generatorStallMs: maxOf(fixed.runs.map((run) => run.result.generatorStallMs)),
  };
}

function maxOf(values: (number | undefined)[]): number | undefined {
  const known = values.filter((value) => value !== undefined);
  return known.length > 0 ? Math.max(...known) : undefined;
}

function fixedRateTable(results: ContenderResult[], key: 'fixedRate' | 'targetRate'): string[] {
  const rows = results
    .map((result) => ({ result, summary: summarizeFixedRate(result[key]) }))
    .filter((row) => row.summary !== undefined);
  if (rows.length === 0) {
    return [];
  }
  // Files written before the harness measured its own stalls have no such column.
  const stalls = rows.some((row) => row.summary!.generatorStallMs !== undefined);
  const lines = [
    `| contender | target req/s | achieved req/s | p50 ms | p99 ms, median (min–max) | p99.9 ms | peak RSS MiB | CPU cores | runs |${stalls ? ' harness stall ms, max |' : ''}`,
    `|---|---:|---:|---:|---:|---:|---:|---:|---:|${stalls ? '---:|' : ''}`,
  ];
  for (const { result, summary } of rows) {
    const run = summary!;
    const note = run.failures ? ` (${run.failures})` : '';
    const stall = stalls ? ` ${ms(run.generatorStallMs)} |` : '';
    lines.push(
      `| ${result.label}${note} | ${integer(run.rate)} | ${integer(run.rps)} | ${ms(run.p50)} | ${ms(run.p99)} (${ms(run.p99Min)}–${ms(run.p99Max)}) | ${ms(run.p999)} | ${mib(run.peakRssBytes)} | ${run.cores?.toFixed(2) ?? '–'} | ${run.count} |${stall}`,
    );
  }
  if (stalls) {
    lines.push('', GENERATOR_STALL_NOTE);
  }
  return lines;
}

/**
 * Returns the median req/s of `entry`'s route at `position` divided by that of the 1-route
 * gateway at the same position. Both of its positions load its only route, in the same order,
 * so the ratio leaves out what the order of the two runs on one process does to them.
 */
function positionRatio(
  entry: ScaleResult,
  single: ScaleResult | undefined,
  position: 'first' | 'last',
): number | undefined {
  const own = summarize(entry[position])?.rps;
  const reference = single ? summarize(single[position])?.rps : undefined;
  return own === undefined || !reference ? undefined : own / reference;
}

function scaleTable(scale: ScaleResult[], connections: number): string[] {
  const single = scale.find((entry) => entry.routes === 1);
  const times = (value: number | undefined) => (value === undefined ? '–' : `${value.toFixed(2)}×`);
  const lines = [
    `| routes | ready ms (config to listening) | ms from spawn | RSS after ready MiB | first route req/s | last route req/s | first, × 1 route | last, × 1 route | peak RSS under load MiB |`,
    '|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const entry of scale) {
    if (entry.skipped) {
      lines.push(`| ${integer(entry.routes)} | skipped: ${entry.skipped} | | | | | | | |`);
      continue;
    }
    const first = summarize(entry.first);
    const last = summarize(entry.last);
    const peak = Math.max(first?.peakRssBytes ?? 0, last?.peakRssBytes ?? 0) || undefined;
    lines.push(
      `| ${integer(entry.routes)} | ${integer(entry.readyMs ?? Number.NaN)} | ${integer(entry.spawnToReadyMs ?? Number.NaN)} | ${mib(entry.rssAfterReadyBytes)} | ${first ? integer(first.rps) : '–'} | ${last ? integer(last.rps) : '–'} | ${times(positionRatio(entry, single, 'first'))} | ${times(positionRatio(entry, single, 'last'))} | ${mib(peak)} |`,
    );
  }
  lines.push(
    '',
    `Load on each route: autocannon, ${connections} connections; in each round the first route runs just before the last, on the same process. The ratios divide by the 1-route gateway at the same position, whose two runs load its only route in the same order.`,
  );
  return lines;
}

/** One goal of the benchmark issue with the figure that decides it. */
export interface GoalCheck {
  goal: string;
  measured: string;
  met: boolean | undefined;
}

/** Checks the throughput, latency, ingest, scale and memory goals against a run's medians. */
export function checkGoals(results: BenchResults): GoalCheck[] {
  const checks: GoalCheck[] = [];
  const { proxy, webhooks, scale } = results;
  const tool = 'autocannon';
  for (const connections of results.options.connections) {
    const plain = summaryOf(proxy, 'pactown-proxy', tool, connections);
    for (const peer of ['fastify-http-proxy', 'fast-gateway']) {
      const other = summaryOf(proxy, peer, tool, connections);
      checks.push(
        compare(
          `proxy ≥ 1.3× ${peer} req/s, c=${connections}`,
          plain?.rps,
          other?.rps,
          1.3,
          (value) => `${value.toFixed(2)}×`,
        ),
      );
      checks.push({
        goal: `proxy p99 ≤ ${peer} p99, c=${connections}`,
        measured: plain && other ? `${ms(plain.p99)} ms vs ${ms(other.p99)} ms` : 'not measured',
        met: plain && other ? plain.p99 <= other.p99 : undefined,
      });
    }
    const jwt = summaryOf(proxy, 'pactown-jwt-rate-limit', tool, connections);
    checks.push(
      compare(
        `jwt + rate_limit ≥ 0.85× proxy, c=${connections}`,
        jwt?.rps,
        plain?.rps,
        0.85,
        (value) => `${value.toFixed(2)}×`,
      ),
    );
    const cache = summaryOf(proxy, 'pactown-cache', tool, connections);
    checks.push(
      compare(
        `cache hits ≥ 2× proxy, c=${connections}`,
        cache?.rps,
        plain?.rps,
        2,
        (value) => `${value.toFixed(2)}×`,
      ),
    );
  }
  const queue = webhooks.find((result) => result.name === 'pactown-webhook-queue');
  const queueMax = queue
    ? summarize(queue.runs.filter((run) => run.result.tool === tool))
    : undefined;
  const target = summarizeFixedRate(queue?.targetRate);
  checks.push({
    goal: 'queue ingest ≥ 3,000 verified webhooks/s',
    measured: queueMax
      ? `${integer(queueMax.rps)}/s at most`
      : `not measured${queue?.skipped ? ` (${queue.skipped.slice(0, 80)}…)` : ''}`,
    met: queueMax ? queueMax.rps >= 3000 : undefined,
  });
  checks.push({
    goal: 'queue ingest p99 < 50 ms at 3,000/s',
    measured: target
      ? `p99 ${ms(target.p99)} ms at ${integer(target.rps)}/s achieved${target.count > 1 ? `, medians of ${target.count} runs` : ''}`
      : 'not measured',
    met: target ? target.p99 < 50 && target.rps >= target.rate * 0.97 : undefined,
  });
  const thousand = scale.find((entry) => entry.routes === 1000);
  checks.push({
    goal: '1,000 routes ready in < 3 s (spawn to listening)',
    measured:
      thousand?.spawnToReadyMs !== undefined
        ? `${integer(thousand.spawnToReadyMs)} ms`
        : 'not measured',
    met: thousand?.spawnToReadyMs !== undefined ? thousand.spawnToReadyMs < 3000 : undefined,
  });
  const single = scale.find((entry) => entry.routes === 1);
  for (const entry of scale.filter((candidate) => candidate.routes > 1)) {
    const worst = Math.min(
      positionRatio(entry, single, 'first') ?? Number.NaN,
      positionRatio(entry, single, 'last') ?? Number.NaN,
    );
    checks.push(
      compare(
        `${integer(entry.routes)} routes: first and last route within 10% of 1 route`,
        Number.isNaN(worst) ? undefined : worst,
        1,
        0.9,
        (value) => `worst ${value.toFixed(2)}×`,
      ),
    );
  }
  const gatewayRss = [...proxy, ...webhooks]
    .filter((result) => result.group === 'gateway' || result.group === 'webhook')
    .flatMap((result) => result.runs.map((run) => run.peakRssBytes ?? 0));
  const scaleRss = scale.flatMap((entry) =>
    [...entry.first, ...entry.last].map((run) => run.peakRssBytes ?? 0),
  );
  const peakRss = Math.max(0, ...gatewayRss);
  const peakScaleRss = Math.max(0, ...scaleRss);
  checks.push({
    goal: 'gateway RSS under load < 200 MiB',
    measured: peakRss > 0 ? `${mib(peakRss)} MiB peak` : 'not measured',
    met: peakRss > 0 ? peakRss < 200 * MiB : undefined,
  });
  if (peakScaleRss > 0) {
    checks.push({
      goal: 'route-scale gateways RSS under load < 200 MiB',
      measured: `${mib(peakScaleRss)} MiB peak`,
      met: peakScaleRss < 200 * MiB,
    });
  }
  return checks;
}

function compare(
  goal: string,
  value: number | undefined,
  reference: number | undefined,
  threshold: number,
  show: (ratio: number) => string,
): GoalCheck {
  if (value === undefined || reference === undefined || reference === 0) {
    return { goal, measured: 'not measured', met: undefined };
  }
  const measured = value / reference;
  return { goal, measured: show(measured), met: measured >= threshold };
}

/** Renders the generated part of docs/benchmarks.md, between the markers. */
export function renderReport(results: BenchResults, command: string): string {
  const { options } = results;
  const lines: string[] = [BEGIN_MARKER, ''];
  lines.push(
    `Produced by \`${command}\`, ${results.startedAt.replace('T', ' ').slice(0, 16)} UTC.`,
    '',
    '| machine | |',
    '|---|---|',
    ...Object.entries(machineDetails()).map(([name, value]) => `| ${name} | ${value} |`),
    `| load average (1 min) | ${results.loadAverage?.start.toFixed(2) ?? '–'} at the start, ${results.loadAverage?.end?.toFixed(2) ?? '–'} at the end |`,
    '',
    `Method: every contender runs in its own process on 127.0.0.1 against the same node:http upstream, and autocannon runs in the harness process. Each contender gets a ${options.warmupSeconds} s warm-up, then ${options.rounds} rounds of ${options.durationSeconds} s per connection count (${options.connections.join(' and ')}), pipelining 1, with the contender order rotated every round. ${processesSentence(options.processes ?? 1)} Figures are medians over the rounds, with the spread (min–max). Ratios divide medians from the same run and the same connection count. RSS is the peak resident set of the contender's processes during its runs; CPU is CPU seconds per second of those processes. Requests per second count 2xx responses only.`,
    '',
    heapSentence(results),
    '',
  );
  const goals = checkGoals(results);
  lines.push('### Goals', '', '| goal | measured | met |', '|---|---|---|');
  for (const check of goals) {
    const met = check.met === undefined ? 'not measured' : check.met ? 'yes' : '**no**';
    lines.push(`| ${check.goal} | ${check.measured} | ${met} |`);
  }
  lines.push('');
  if (results.upstreamSkipped) {
    lines.push(`The upstream did not start: ${results.upstreamSkipped}`, '');
  }
  appendProxySection(lines, results);
  appendWebhookSection(lines, results);
  appendRedisSection(lines, results);
  appendScaleSection(lines, results);
  const skipped = [...results.proxy, ...results.webhooks].filter((result) => result.skipped);
  if (skipped.length > 0 || results.wrkMissing) {
    lines.push('### Skipped', '');
    for (const result of skipped) {
      lines.push(`- ${result.label}: ${result.skipped}`);
    }
    if (results.wrkMissing) {
      lines.push('- wrk runs: wrk is not installed');
    }
    lines.push('');
  }
  lines.push(END_MARKER);
  return lines.join('\n');
}

/** Says how the rounds spread over each contender's processes. */
function processesSentence(processes: number): string {
  if (processes <= 1) {
    return 'Each contender and each route count runs in one process.';
  }
  return `Each contender and each route count runs in ${processes} processes, started the same way, and round r runs on process r mod ${processes}. Two processes with the same code can differ by up to 15 % for their whole life, so a median over rounds is also a median over processes. Ready times and RSS after ready are medians over the processes; each process gets one fixed-rate run per rate, and the fixed-rate tables give medians over those runs.`;
}

/** Says which V8 heap the Node contenders ran with, and the limit they reported. */
function heapSentence(results: BenchResults): string {
  const memory = results.options.memory ?? 'host';
  const limits = [...results.proxy, ...results.webhooks]
    .map((result) => result.heapLimitBytes)
    .filter((limit) => limit !== undefined);
  let limit = '';
  if (limits.length > 0) {
    const low = integer(Math.min(...limits) / MiB);
    const high = integer(Math.max(...limits) / MiB);
    const range = low === high ? low : `${low} to ${high}`;
    limit = ` V8 reported a heap limit of ${range} MiB in the contenders.`;
  }
  if (memory === 'host') {
    return `Heap: every Node contender ran with Node's defaults for this machine (\`--memory host\`).${limit}`;
  }
  return `Heap: every Node contender, peers included, ran with \`${heapFlags(memory).join(' ')}\`, the flags that the unit of \`pactown quadlet deploy --memory ${memory}\` sets (docs/deployment.md).${limit}`;
}

function appendProxySection(lines: string[], results: BenchResults): void {
  if (results.proxy.length === 0) {
    return;
  }
  const { connections } = results.options;
  lines.push(
    '### Proxy throughput, autocannon',
    '',
    `Request: \`GET /api/items/42?page=1&sort=price\` (the direct upstream gets the path without \`/api\`); the upstream answers ${'a 75-byte JSON body'}.`,
    '',
    ...throughputTable(results.proxy, 'autocannon', connections),
    '',
  );
  if (results.proxy.some((result) => result.runs.some((run) => run.result.tool === 'wrk'))) {
    lines.push(
      '### Proxy throughput, wrk (one thread)',
      '',
      ...throughputTable(results.proxy, 'wrk', connections),
      '',
    );
  }
  const fixed = fixedRateTable(results.proxy, 'fixedRate');
  if (fixed.length > 0) {
    lines.push(
      `### Latency at half the maximum rate (open loop over ${connections[0]} connections: requests sent at even intervals, latency counted from when each was due)`,
      '',
      ...fixed,
      '',
    );
  }
}

function appendWebhookSection(lines: string[], results: BenchResults): void {
  if (results.webhooks.length === 0) {
    return;
  }
  lines.push(
    '### Webhook ingest, Stripe-signed',
    '',
    'Each request carries a fresh event id and a `Stripe-Signature` made with the stripe package, so none is a duplicate. `sync` answers after the upstream sink accepted the event; `queue` answers 202 once the event is stored in SQLite (or in Redis), and its worker delivers to the sink during the run.',
    '',
    ...throughputTable(results.webhooks, 'autocannon', results.options.connections).map((line) =>
      line.replace('req/s, median', 'acknowledged/s, median'),
    ),
    '',
  );
  const target = fixedRateTable(results.webhooks, 'targetRate');
  if (target.length > 0) {
    lines.push(
      `At a fixed ${integer(results.options.webhookRate)} webhooks/s, sent at even intervals (open loop):`,
      '',
      ...target,
      '',
    );
  }
}

/** Contenders that keep their state in Redis, each with its counterpart that keeps it local. */
const REDIS_PAIRS = [
  { redis: 'pactown-jwt-rate-limit-redis', local: 'pactown-jwt-rate-limit', store: 'memory' },
  { redis: 'pactown-cache-redis', local: 'pactown-cache', store: 'memory' },
  { redis: 'pactown-webhook-queue-redis', local: 'pactown-webhook-queue', store: 'SQLite' },
  { redis: 'pactown-webhook-queue-bullmq', local: 'pactown-webhook-queue', store: 'SQLite' },
];

/** Compares each Redis contender with the same route on its local store, from the same run. */
function appendRedisSection(lines: string[], results: BenchResults): void {
  const all = [...results.proxy, ...results.webhooks];
  const rows: string[] = [];
  for (const pair of REDIS_PAIRS) {
    const redis = all.find((result) => result.name === pair.redis);
    const local = all.find((result) => result.name === pair.local);
    if (!redis || !local || redis.skipped || local.skipped) {
      continue;
    }
    for (const connections of results.options.connections) {
      const withRedis = summarize(runsOf(redis, 'autocannon', connections));
      const withLocal = summarize(runsOf(local, 'autocannon', connections));
      if (!withRedis || !withLocal) {
        continue;
      }
      rows.push(
        `| ${redis.label} | ${connections} | ${integer(withLocal.rps)} (${pair.store}) | ${integer(withRedis.rps)} | ${ratio(withRedis.rps, withLocal.rps)} | ${ms(withLocal.p99)} | ${ms(withRedis.p99)} |`,
      );
    }
  }
  if (rows.length === 0) {
    return;
  }
  lines.push(
    '### Effect of Redis',
    '',
    'The same route with its state in the local Redis instead of in process memory or SQLite: one gateway process, so the figures show the cost of the Redis round trips, not the gain of running several instances.',
    '',
    '| contender | connections | req/s, local store | req/s, Redis | × local | p99 ms, local | p99 ms, Redis |',
    '|---|---:|---:|---:|---:|---:|---:|',
    ...rows,
    '',
  );
}

function appendScaleSection(lines: string[], results: BenchResults): void {
  if (results.scale.length === 0) {
    return;
  }
  lines.push(
    '### Route scale',
    '',
    'A gateway with N proxy routes `/r0` … `/r{N-1}`, all to the upstream; "ready" is measured inside the child from loading the config to listening, and "from spawn" includes Node start-up and module loading.',
    '',
    ...scaleTable(results.scale, results.options.connections[0]),
    '',
  );
}

/** Replaces the generated part of `existing` (or writes a new page around it). */
export function mergeReport(existing: string | undefined, generated: string): string {
  if (existing) {
    const begin = existing.indexOf(BEGIN_MARKER);
    const end = existing.indexOf(END_MARKER);
    if (begin !== -1 && end > begin) {
      return `${existing.slice(0, begin)}${generated}${existing.slice(end + END_MARKER.length)}`;
    }
    return `${existing.trimEnd()}\n\n## Latest run\n\n${generated}\n`;
  }
  return `# Benchmarks\n\nRun them with \`npm run bench\`; see the options with \`npm run bench -- --help\`.\n\n## Latest run\n\n${generated}\n`;
}
