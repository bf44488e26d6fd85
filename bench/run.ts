import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import {
  type BenchOptions,
  type BenchResults,
  type FixedRateRuns,
  heapFlags,
  type LoadTool,
  type RunRecord,
  runBench,
  type Section,
} from './harness.js';
import { mergeReport, renderReport } from './report.js';

const HELP = `Usage: npm run bench -- [options]

Starts the benchmark upstream and every contender on 127.0.0.1, loads each in alternating
rounds and writes the figures to docs/benchmarks.md, between the generated-section markers.

Options:
  --duration S       seconds of each measured run (default 5)
  --rounds N         rounds per contender and connection count (default 3)
  --processes N      processes per contender and route count; round r runs on process
                     r mod N, so medians span processes (default 3, at most --rounds)
  --warmup S         seconds of warm-up load per contender process, 0 for none (default 15)
  --connections L    comma-separated connection counts (default 50,100)
  --sections L       any of proxy,webhooks,scale (default all three)
  --only L           contender names to run, such as pactown-proxy,fast-gateway (default all)
  --routes L         route counts of the scale section (default 1,100,1000,10000)
  --tools L          autocannon and, when installed, wrk (default autocannon,wrk)
  --no-fixed-rate    skip the latency run at half the maximum rate
  --webhook-rate N   fixed rate, in webhooks per second, for the ingest latency run (default 3000)
  --memory SIZE      run every Node contender with the V8 heap flags that the Quadlet unit of
                     \`pactown quadlet deploy --memory SIZE\` sets; "host" keeps Node's
                     defaults for this machine (default 512m, deploy's default)
  --profile DIR      run Node contenders with --cpu-prof, writing profiles below DIR
  --json FILE        also write every raw figure to FILE
  --from-json FILE   write the report from a --json file of an earlier run, without running
  --out FILE         Markdown page to update (default docs/benchmarks.md); "-" prints it
  --help             show this text`;

const { values } = parseArgs({
  options: {
    duration: { type: 'string', default: '5' },
    rounds: { type: 'string', default: '3' },
    processes: { type: 'string', default: '3' },
    warmup: { type: 'string', default: '15' },
    connections: { type: 'string', default: '50,100' },
    sections: { type: 'string', default: 'proxy,webhooks,scale' },
    only: { type: 'string', default: '' },
    routes: { type: 'string', default: '1,100,1000,10000' },
    tools: { type: 'string', default: 'autocannon,wrk' },
    'no-fixed-rate': { type: 'boolean', default: false },
    'webhook-rate': { type: 'string', default: '3000' },
    memory: { type: 'string', default: '512m' },
    profile: { type: 'string' },
    json: { type: 'string' },
    'from-json': { type: 'string' },
    out: { type: 'string', default: 'docs/benchmarks.md' },
    help: { type: 'boolean', default: false },
  },
});

if (values.help) {
  console.log(HELP);
  process.exit(0);
}

function list(text: string): string[] {
  return text
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean);
}

function positive(name: string, text: string, allowZero = false): number {
  const value = Number(text);
  if (!Number.isFinite(value) || value < 0 || (!allowZero && value === 0)) {
    console.error(
      `--${name} must be a ${allowZero ? 'non-negative' : 'positive'} number, got "${text}"\n\n${HELP}`,
    );
    process.exit(2);
  }
  return value;
}

function memorySetting(text: string): string {
  try {
    heapFlags(text);
  } catch {
    console.error(`--memory must be "host" or a size such as 512m, got "${text}"\n\n${HELP}`);
    process.exit(2);
  }
  return text;
}

function processCount(text: string, rounds: number): number {
  const count = positive('processes', text);
  if (!Number.isInteger(count) || count > rounds) {
    console.error(
      `--processes must be a whole number no larger than --rounds (${rounds}), got "${text}"; a process without a round of its own is never measured\n\n${HELP}`,
    );
    process.exit(2);
  }
  return count;
}

const rounds = positive('rounds', values.rounds);
const options: BenchOptions = {
  durationSeconds: positive('duration', values.duration),
  rounds,
  processes: processCount(values.processes, rounds),
  warmupSeconds: positive('warmup', values.warmup, true),
  connections: list(values.connections).map((text) => positive('connections', text)),
  sections: list(values.sections) as Section[],
  only: list(values.only),
  scaleRoutes: list(values.routes).map((text) => positive('routes', text)),
  tools: list(values.tools) as LoadTool[],
  fixedRate: !values['no-fixed-rate'],
  webhookRate: positive('webhook-rate', values['webhook-rate'], true),
  profileDir: values.profile ? resolve(values.profile) : undefined,
  memory: memorySetting(values.memory),
  log: (line) => console.error(line),
};

/**
 * Converts the fixed-rate figures of files written before each process got its own fixed-rate
 * run. Such a file contains a single run record with its rate, which becomes a list of one run.
 */
function withFixedRateRuns(results: BenchResults): BenchResults {
  for (const contender of [...results.proxy, ...results.webhooks]) {
    for (const key of ['fixedRate', 'targetRate'] as const) {
      const stored = contender[key] as (RunRecord & { rate: number }) | FixedRateRuns | undefined;
      if (stored && !('runs' in stored)) {
        const { rate, ...run } = stored;
        contender[key] = { rate, runs: [run] };
      }
    }
  }
  return results;
}

async function obtainResults(): Promise<BenchResults> {
  if (values['from-json']) {
    return withFixedRateRuns(JSON.parse(readFileSync(values['from-json'], 'utf8')));
  }
  const results = await runBench(options);
  const shownArgs = process.argv.slice(2).join(' ');
  results.command = `npm run bench${shownArgs ? ` -- ${shownArgs}` : ''}`;
  if (values.json) {
    writeFileSync(values.json, `${JSON.stringify(results, null, 2)}\n`);
  }
  return results;
}

const results = await obtainResults();
const generated = renderReport(results, results.command ?? 'npm run bench');
if (values.out === '-') {
  console.log(generated);
} else {
  const existing = existsSync(values.out) ? readFileSync(values.out, 'utf8') : undefined;
  writeFileSync(values.out, mergeReport(existing, generated));
  console.error(`wrote ${values.out}`);
}
