import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { nodeHeapFlagsForSize } from '../cli/quadlet/node-heap.js';
import {
  type Contender,
  type ContenderContext,
  PROXY_CONTENDERS,
  scalePath,
  startScaleGateway,
  WEBHOOK_CONTENDERS,
} from './contenders.js';
import {
  findWrk,
  type LoadRequest,
  type LoadResult,
  type LoadSpec,
  runAutocannon,
  runOpenLoop,
  runWrk,
} from './load.js';
import {
  measureUsage,
  readUsage,
  type ServerProcess,
  type StartFailure,
  startServer,
  waitForQuiet,
} from './processes.js';

export type LoadTool = 'autocannon' | 'wrk';
export type Section = 'proxy' | 'webhooks' | 'scale';

/** Settings of one harness run. */
export interface BenchOptions {
  /** Seconds of each measured load run. */
  durationSeconds: number;
  /**
   * Seconds of load on each contender process before the first round; 0 skips the warm-up. On a
   * 2-core AMD EPYC, a fresh gateway process served 40 to 50 % of its steady rate in its first 4 s
   * of load. It reached that rate only after 12 to 16 s, so a short warm-up favours the process
   * that is measured later.
   */
  warmupSeconds: number;
  rounds: number;
  /**
   * Processes started for each contender and route count. Round r runs on process r mod N, so
   * the medians over the rounds are medians over processes too. In one run, two processes with
   * the same code differed by up to 15 % for their whole life.
   */
  processes: number;
  connections: number[];
  /** Runs each contender again at half its measured maximum for latency percentiles. */
  fixedRate: boolean;
  /** Fixed rate, in requests per second, that webhook contenders are also run at. */
  webhookRate: number;
  tools: LoadTool[];
  sections: Section[];
  /** Contender names to run; empty runs all. */
  only: string[];
  /** Route counts of the route-scale section. */
  scaleRoutes: number[];
  /** When set, Node contenders write V8 CPU profiles (`--cpu-prof`) to this folder. */
  profileDir?: string;
  /**
   * Memory size in podman's units, such as `512m`. Every Node contender runs with the V8 heap
   * flags that `pactown quadlet deploy --memory` writes for it. `host` keeps Node's defaults.
   */
  memory: string;
  log(line: string): void;
}

/** One measured load run of a contender. */
export interface RunRecord {
  round: number;
  /** Index of the contender's process that served the run, from 0. */
  process?: number;
  connections: number;
  result: LoadResult;
  peakRssBytes?: number;
  /** CPU seconds per second used by the contender's processes during the run. */
  cores?: number;
}

/** Everything measured for one contender; `skipped` contains the reason it did not run. */
export interface ContenderResult {
  name: string;
  label: string;
  group: Contender['group'];
  skipped?: string;
  /** Median over the contender's processes of the time from start to listening. */
  readyMs?: number;
  /** V8's heap limit in the contender's process, absent for nginx. */
  heapLimitBytes?: number;
  runs: RunRecord[];
  /** Open-loop runs at half the median maximum, one per process. */
  fixedRate?: FixedRateRuns;
  /** Open-loop runs at {@link BenchOptions.webhookRate}, for webhook contenders. */
  targetRate?: FixedRateRuns;
}

/** The open-loop runs of one contender at one rate, one run on each of its processes. */
export interface FixedRateRuns {
  rate: number;
  runs: RunRecord[];
}

/** One route count of the route-scale section. */
export interface ScaleResult {
  routes: number;
  skipped?: string;
  /** Medians over the gateway processes started with this route count. */
  readyMs?: number;
  spawnToReadyMs?: number;
  rssAfterReadyBytes?: number;
  first: RunRecord[];
  last: RunRecord[];
}

/** The results of a harness run. */
export interface BenchResults {
  options: Omit<BenchOptions, 'log'>;
  startedAt: string;
  finishedAt?: string;
  /** One-minute load average when the run started and when it finished (`os.loadavg()`). */
  loadAverage?: { start: number; end?: number };
  /** The command line that produced the results, for the report. */
  command?: string;
  upstreamSkipped?: string;
  proxy: ContenderResult[];
  webhooks: ContenderResult[];
  scale: ScaleResult[];
  wrkMissing: boolean;
}

/** Maximum warm-up of a webhook contender process, in seconds. */
const WEBHOOK_WARMUP_SECONDS = 5;

interface Running {
  contender: Contender;
  result: ContenderResult;
  /** The contender's processes; empty when it was skipped. */
  servers: ServerProcess[];
  request?: LoadRequest;
}

/** Runs the selected sections and returns every figure; servers are stopped before it returns. */
export async function runBench(options: BenchOptions): Promise<BenchResults> {
  const work = mkdtempSync(join(tmpdir(), 'pactown-bench-'));
  const tools = options.tools.filter((tool) => tool !== 'wrk' || findWrk() !== null);
  const results: BenchResults = {
    options: { ...options, log: undefined } as unknown as BenchResults['options'],
    startedAt: new Date().toISOString(),
    loadAverage: { start: loadavg()[0] },
    proxy: [],
    webhooks: [],
    scale: [],
    wrkMissing: options.tools.includes('wrk') && findWrk() === null,
  };
  if (results.wrkMissing) {
    options.log('wrk is not installed; skipping the wrk runs (apt-get install wrk adds it)');
  }
  const upstream = await startServer(
    { kind: 'upstream' },
    { nodeFlags: nodeFlags(options, 'upstream') },
  );
  if (!('url' in upstream)) {
    results.upstreamSkipped = upstream.reason;
    options.log(`the benchmark upstream did not start: ${upstream.reason}`);
    return results;
  }
  const context = (name: string): ContenderContext => {
    const dir = join(work, name);
    mkdirSync(dir, { recursive: true });
    return { upstream, upstreamUrl: upstream.url, dir, nodeFlags: nodeFlags(options, name) };
  };
  try {
    if (options.sections.includes('proxy')) {
      results.proxy = await runGroup(
        selected(PROXY_CONTENDERS, options),
        context,
        options,
        tools,
        upstream.pid,
      );
    }
    if (options.sections.includes('webhooks')) {
      // A queue contender delivers its warm-up's backlog before the first round can start, so
      // the webhook warm-up stays short. At 7,000 webhooks/s, 15 s would queue 105,000 events.
      const webhookOptions = {
        ...options,
        fixedRate: false,
        warmupSeconds: Math.min(options.warmupSeconds, WEBHOOK_WARMUP_SECONDS),
      };
      results.webhooks = await runGroup(
        selected(WEBHOOK_CONTENDERS, options),
        context,
        webhookOptions,
        ['autocannon'],
        upstream.pid,
      );
    }
    if (options.sections.includes('scale')) {
      results.scale = await runScale(context, options, upstream.pid);
    }
  } finally {
    await upstream.stop();
    rmSync(work, { recursive: true, force: true });
  }
  results.finishedAt = new Date().toISOString();
  results.loadAverage!.end = loadavg()[0];
  return results;
}

function selected(contenders: Contender[], options: BenchOptions): Contender[] {
  if (options.only.length === 0) {
    return contenders;
  }
  return contenders.filter((contender) => options.only.includes(contender.name));
}

/** Returns a Node contender's flags: the heap flags of `options.memory`, then profiling. */
function nodeFlags(options: BenchOptions, name: string): string[] {
  const flags = heapFlags(options.memory);
  if (options.profileDir) {
    const dir = join(options.profileDir, name);
    mkdirSync(dir, { recursive: true });
    flags.push('--cpu-prof', `--cpu-prof-dir=${dir}`);
  }
  return flags;
}

/** Returns the V8 heap flags for `memory`, or none for `host`. */
export function heapFlags(memory: string): string[] {
  return memory === 'host' ? [] : nodeHeapFlagsForSize(memory);
}

async function runGroup(
  contenders: Contender[],
  context: (name: string) => ContenderContext,
  options: BenchOptions,
  tools: LoadTool[],
  upstreamPid: number,
): Promise<ContenderResult[]> {
  const running = await startAll(contenders, context, options);
  try {
    const live = running.filter((entry) => entry.servers.length > 0);
    const pids = [upstreamPid, ...processIds(live)];
    const settle = (title: string) => settleBeforeRun(pids, title, options);
    await warmUp(live, options);
    for (let round = 1; round <= options.rounds; round++) {
      for (const entry of rotate(live, round - 1)) {
        for (const connections of options.connections) {
          for (const tool of tools) {
            await settle(`${entry.contender.name} round ${round}`);
            await measureRun(entry, round, connections, tool, options);
          }
        }
      }
    }
    const processes = Math.max(0, ...live.map((entry) => entry.servers.length));
    for (let index = 0; index < processes; index++) {
      for (const entry of rotate(live, index)) {
        if (index < entry.servers.length) {
          await runFixedRates(entry, index, options, settle);
        }
      }
    }
  } finally {
    await stopAll(running.flatMap((entry) => entry.servers));
  }
  return running.map((entry) => entry.result);
}

async function startAll(
  contenders: Contender[],
  context: (name: string) => ContenderContext,
  options: BenchOptions,
): Promise<Running[]> {
  const running: Running[] = [];
  for (const contender of contenders) {
    const result: ContenderResult = {
      name: contender.name,
      label: contender.label,
      group: contender.group,
      runs: [],
    };
    const started = await startProcesses(
      options.processes,
      (index) => contender.start(context(`${contender.name}-${index}`)),
      contender.name,
      options,
    );
    if (isFailure(started)) {
      result.skipped = firstLines(started.reason);
      options.log(`${contender.name}: skipped, ${result.skipped}`);
      running.push({ contender, result, servers: [] });
      continue;
    }
    result.readyMs = median(started.map((server) => server.readyMs));
    result.heapLimitBytes = started[0].heapLimitBytes;
    running.push({ contender, result, servers: started, request: await contender.request() });
  }
  return running;
}

/**
 * Starts `count` processes of one contender. When one fails, stops the others and returns the
 * failure, so that a contender runs on all its processes or not at all.
 */
async function startProcesses(
  count: number,
  start: (index: number) => Promise<ServerProcess | StartFailure>,
  name: string,
  options: BenchOptions,
): Promise<ServerProcess[] | StartFailure> {
  const servers: ServerProcess[] = [];
  for (let index = 0; index < count; index++) {
    const started = await start(index);
    if (isFailure(started)) {
      await stopAll(servers);
      return started;
    }
    servers.push(started);
    options.log(`${name} process ${index}: listening on ${started.url} (pid ${started.pid})`);
  }
  return servers;
}

async function stopAll(servers: ServerProcess[]): Promise<void> {
  for (const server of servers) {
    await server.stop();
  }
}

function processIds(entries: { servers: ServerProcess[] }[]): number[] {
  return entries.flatMap((entry) => entry.servers.map((server) => server.pid));
}

/** Returns the process that serves `round`: round r runs on process r mod N. */
function serverFor<T>(servers: T[], round: number): { server: T; index: number } {
  const index = (round - 1) % servers.length;
  return { server: servers[index], index };
}

function isFailure<T extends object>(started: T | StartFailure): started is StartFailure {
  return 'reason' in started;
}

/** Keeps the first lines of a config error, which name the file, key and fix. */
function firstLines(text: string, count = 6): string {
  return text.split('\n').slice(0, count).join(' ').replace(/\s+/g, ' ').trim();
}

async function warmUp(live: Running[], options: BenchOptions): Promise<void> {
  if (options.warmupSeconds <= 0) {
    return;
  }
  for (const entry of live) {
    options.log(`${entry.contender.name}: warming up each process for ${options.warmupSeconds} s`);
    for (const server of entry.servers) {
      await runAutocannon(loadSpec(entry, server, options.connections[0], options.warmupSeconds));
    }
  }
}

function loadSpec(
  entry: Running,
  server: ServerProcess,
  connections: number,
  seconds: number,
): LoadSpec {
  return {
    url: server.url,
    request: entry.request!,
    connections,
    durationSeconds: seconds,
  };
}

async function measureRun(
  entry: Running,
  round: number,
  connections: number,
  tool: LoadTool,
  options: BenchOptions,
): Promise<void> {
  if (tool === 'wrk' && (entry.request!.method !== 'GET' || entry.request!.prepare)) {
    return;
  }
  const { server, index } = serverFor(entry.servers, round);
  const spec = loadSpec(entry, server, connections, options.durationSeconds);
  const run = tool === 'wrk' ? runWrk : runAutocannon;
  const measured = await measureUsage(server.pid, () => run(spec));
  const record: RunRecord = {
    round,
    process: index,
    connections,
    result: measured.result,
    peakRssBytes: measured.peakRssBytes,
    cores: measured.cores,
  };
  entry.result.runs.push(record);
  options.log(describeRun(`${entry.contender.name} round ${round} process ${index}`, record));
}

function describeRun(title: string, record: RunRecord): string {
  const { result } = record;
  const rss = record.peakRssBytes ? `, rss ${Math.round(record.peakRssBytes / 2 ** 20)} MB` : '';
  const cores = record.cores !== undefined ? `, cpu ${record.cores.toFixed(2)}` : '';
  const failures = result.non2xx + result.errors > 0 ? `, ${describeFailures(result)}` : '';
  const stall =
    result.generatorStallMs !== undefined ? `, harness stalled ${result.generatorStallMs} ms` : '';
  return `${title} ${result.tool} c=${record.connections}: ${Math.round(result.rps)} req/s, p50 ${result.latency.p50} ms, p99 ${result.latency.p99} ms${rss}${cores}${failures}${stall}`;
}

/**
 * Waits until the upstream and every contender of the group are idle, so that a queue worker
 * still delivering the backlog of one contender's run does not take CPU from the next run.
 */
async function settleBeforeRun(pids: number[], title: string, options: BenchOptions) {
  const { waitedMs, quiet } = await waitForQuiet(pids);
  if (!quiet) {
    options.log(
      `${title}: contenders still busy after ${Math.round(waitedMs / 1000)} s; running anyway`,
    );
  } else if (waitedMs > 1000) {
    options.log(`${title}: waited ${Math.round(waitedMs / 1000)} s for the contenders to go idle`);
  }
}

/** Names the non-2xx status codes and the connection errors of a run, for logs and tables. */
export function describeFailures(result: LoadResult): string {
  const codes = Object.entries(result.statusCodes ?? {})
    .filter(([code]) => !code.startsWith('2'))
    .map(([code, count]) => `${count}× ${code}`);
  const parts = [codes.length > 0 ? codes.join(', ') : `${result.non2xx} non-2xx`];
  if (result.errors > 0) {
    parts.push(`${result.errors} connection errors`);
  }
  return parts.join(', ');
}

/**
 * Runs process `index` of a contender at half the contender's median maximum, and webhook
 * contenders at the target rate too. Each process gets one run per rate, so that a stall of the
 * machine during a single run does not set the contender's latency figures.
 */
async function runFixedRates(
  entry: Running,
  index: number,
  options: BenchOptions,
  settle: (title: string) => Promise<void>,
): Promise<void> {
  const connections = options.connections[0];
  const maxima = entry.result.runs
    .filter((run) => run.result.tool === 'autocannon' && run.connections === connections)
    .map((run) => run.result.rps);
  if (options.fixedRate && maxima.length > 0) {
    const rate = Math.max(1, Math.floor(median(maxima) / 2));
    await settle(`${entry.contender.name} at ${rate} req/s`);
    entry.result.fixedRate ??= { rate, runs: [] };
    entry.result.fixedRate.runs.push(await fixedRateRun(entry, rate, index, options));
  }
  if (entry.contender.group === 'webhook' && options.webhookRate > 0) {
    const rate = options.webhookRate;
    await settle(`${entry.contender.name} at ${rate} req/s`);
    entry.result.targetRate ??= { rate, runs: [] };
    entry.result.targetRate.runs.push(await fixedRateRun(entry, rate, index, options));
  }
}

/** Loads process `index` of the contender at `rate` requests per second, open loop. */
async function fixedRateRun(
  entry: Running,
  rate: number,
  index: number,
  options: BenchOptions,
): Promise<RunRecord> {
  const connections = options.connections[0];
  const server = entry.servers[index];
  const spec = { ...loadSpec(entry, server, connections, options.durationSeconds), rate };
  const measured = await measureUsage(server.pid, () => runOpenLoop(spec));
  const record: RunRecord = {
    round: 0,
    process: index,
    connections,
    result: measured.result,
    peakRssBytes: measured.peakRssBytes,
    cores: measured.cores,
  };
  options.log(describeRun(`${entry.contender.name} fixed ${rate} req/s process ${index}`, record));
  return record;
}

/**
 * Starts {@link BenchOptions.processes} gateways per route count, then loads the first and the
 * last route of each.
 */
async function runScale(
  context: (name: string) => ContenderContext,
  options: BenchOptions,
  upstreamPid: number,
): Promise<ScaleResult[]> {
  const entries: { result: ScaleResult; servers: ServerProcess[] }[] = [];
  try {
    for (const routes of options.scaleRoutes) {
      const result: ScaleResult = { routes, first: [], last: [] };
      const started = await startProcesses(
        options.processes,
        (index) => startScaleGateway(context(`scale-${routes}-${index}`), routes),
        `${routes} routes`,
        options,
      );
      if (isFailure(started)) {
        result.skipped = firstLines(started.reason);
        options.log(`${routes} routes: skipped, ${result.skipped}`);
        entries.push({ result, servers: [] });
        continue;
      }
      result.readyMs = median(started.map((server) => server.readyMs));
      result.spawnToReadyMs = median(started.map((server) => server.spawnToReadyMs));
      const rss = started.map((server) => readUsage(server.pid)?.rssBytes ?? Number.NaN);
      result.rssAfterReadyBytes = rss.some(Number.isNaN) ? undefined : median(rss);
      options.log(
        `${routes} routes: ready in ${Math.round(result.readyMs)} ms (${Math.round(result.spawnToReadyMs)} ms from spawn), median of ${started.length} processes`,
      );
      entries.push({ result, servers: started });
    }
    const live = entries.filter((entry) => entry.servers.length > 0);
    const pids = [upstreamPid, ...processIds(live)];
    if (options.warmupSeconds > 0) {
      for (const entry of live) {
        for (const server of entry.servers) {
          await runAutocannon(scaleSpec(server, 0, options.connections[0], options.warmupSeconds));
        }
      }
    }
    for (let round = 1; round <= options.rounds; round++) {
      for (const entry of rotate(live, round - 1)) {
        const { server, index: processIndex } = serverFor(entry.servers, round);
        for (const position of ['first', 'last'] as const) {
          const index = position === 'first' ? 0 : entry.result.routes - 1;
          const connections = options.connections[0];
          const spec = scaleSpec(server, index, connections, options.durationSeconds);
          const title = `${entry.result.routes} routes ${position} route process ${processIndex}`;
          await settleBeforeRun(pids, title, options);
          const measured = await measureUsage(server.pid, () => runAutocannon(spec));
          const record: RunRecord = {
            round,
            process: processIndex,
            connections,
            result: measured.result,
            peakRssBytes: measured.peakRssBytes,
            cores: measured.cores,
          };
          entry.result[position].push(record);
          options.log(describeRun(title, record));
        }
      }
    }
  } finally {
    await stopAll(entries.flatMap((entry) => entry.servers));
  }
  return entries.map((entry) => entry.result);
}

function scaleSpec(
  server: ServerProcess,
  index: number,
  connections: number,
  seconds: number,
): LoadSpec {
  return {
    url: server.url,
    request: { method: 'GET', path: scalePath(index) },
    connections,
    durationSeconds: seconds,
  };
}

/** Returns `items` started at position `by`, so each round begins with another contender. */
function rotate<T>(items: T[], by: number): T[] {
  if (items.length === 0) {
    return items;
  }
  const shift = by % items.length;
  return [...items.slice(shift), ...items.slice(0, shift)];
}

/** Returns the median of `values`, or NaN for none. */
export function median(values: number[]): number {
  if (values.length === 0) {
    return Number.NaN;
  }
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}
