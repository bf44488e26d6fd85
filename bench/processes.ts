import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import type { ServeMessage, ServeSpec } from './serve.js';

/** A server process that the harness started and stops. */
export interface ServerProcess {
  /** Base URL such as `http://127.0.0.1:41234`. */
  url: string;
  pid: number;
  /** Milliseconds the child took from its first line of code to listening. */
  readyMs: number;
  /** Milliseconds from spawn to listening, including Node start-up and module loading. */
  spawnToReadyMs: number;
  /** V8's heap limit in the child, which the heap flags set. It is absent for nginx. */
  heapLimitBytes?: number;
  stop(): Promise<void>;
}

/** A server that could not start, with the reason. */
export interface StartFailure {
  reason: string;
}

const SERVE_SCRIPT = new URL('./serve.js', import.meta.url);

/** Options of {@link startServer}. */
export interface StartOptions {
  env?: NodeJS.ProcessEnv;
  /** Extra Node flags, such as `--cpu-prof`. */
  nodeFlags?: string[];
  /** Milliseconds to wait for the ready line. */
  timeoutMs?: number;
}

/** Starts `node dist/bench/serve.js SPEC` and waits for its ready line. */
export async function startServer(
  spec: ServeSpec,
  options: StartOptions = {},
): Promise<ServerProcess | StartFailure> {
  const spawned = performance.now();
  const child = spawn(
    process.execPath,
    [...(options.nodeFlags ?? []), SERVE_SCRIPT.pathname, JSON.stringify(spec)],
    { env: { ...process.env, ...options.env }, stdio: ['pipe', 'pipe', 'pipe'] },
  );
  const stderr: string[] = [];
  child.stderr?.setEncoding('utf8').on('data', (text: string) => {
    stderr.push(text);
  });
  const message = await readFirstMessage(child, options.timeoutMs ?? 120_000);
  if (!message || !('ready' in message)) {
    await stopChild(child);
    const reason = !message
      ? `exited or timed out before listening: ${stderr.join('').trim().slice(-2000)}`
      : 'skip' in message
        ? message.skip
        : message.error;
    return { reason };
  }
  return {
    url: message.ready.url,
    pid: child.pid!,
    readyMs: message.ready.readyMs,
    heapLimitBytes: message.ready.heapLimitBytes,
    spawnToReadyMs: performance.now() - spawned,
    stop: () => stopChild(child),
  };
}

function readFirstMessage(child: ChildProcess, timeoutMs: number): Promise<ServeMessage | null> {
  return new Promise((resolve) => {
    const lines = createInterface({ input: child.stdout! });
    const timer = setTimeout(() => finish(null), timeoutMs);
    const finish = (message: ServeMessage | null) => {
      clearTimeout(timer);
      lines.close();
      child.off('exit', onExit);
      resolve(message);
    };
    const onExit = () => finish(null);
    child.once('exit', onExit);
    lines.on('line', (line) => {
      try {
        finish(JSON.parse(line) as ServeMessage);
      } catch {
        // Not the ready line; a contender printed something else first.
      }
    });
  });
}

/** Sends SIGTERM, then SIGKILL if the process is still there after 5 s. */
export function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) {
    return Promise.resolve();
  }
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

/** Resident set size and CPU time of a process and its descendants (nginx workers). */
export interface ProcessUsage {
  rssBytes: number;
  /** User plus system CPU time in seconds. */
  cpuSeconds: number;
}

const systemValues = new Map<string, number>();

/** Reads a `getconf` value such as CLK_TCK or PAGESIZE, with the usual Linux value as fallback. */
function systemValue(name: string, fallback: number): number {
  let value = systemValues.get(name);
  if (value === undefined) {
    try {
      value = Number(execFileSync('getconf', [name], { encoding: 'utf8' }).trim()) || fallback;
    } catch {
      value = fallback;
    }
    systemValues.set(name, value);
  }
  return value;
}

/** Reads the usage of `pid` and every process below it from /proc (Linux only). */
export function readUsage(pid: number): ProcessUsage | undefined {
  return sumUsage([pid, ...descendantsOf(pid)]);
}

function readStat(pid: number) {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // The command name is in parentheses and may contain spaces; fields follow the last ')'.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return {
    ppid: Number(fields[1]),
    utime: Number(fields[11]),
    stime: Number(fields[12]),
    rssPages: Number(fields[21]),
  };
}

function descendantsOf(pid: number): number[] {
  let entries: string[];
  try {
    entries = readdirSync('/proc').filter((name) => /^\d+$/.test(name));
  } catch {
    return [];
  }
  const children = new Map<number, number[]>();
  for (const entry of entries) {
    const stat = readStat(Number(entry));
    if (stat) {
      const list = children.get(stat.ppid) ?? [];
      list.push(Number(entry));
      children.set(stat.ppid, list);
    }
  }
  const found: number[] = [];
  const queue = [...(children.get(pid) ?? [])];
  while (queue.length > 0) {
    const next = queue.shift()!;
    found.push(next);
    queue.push(...(children.get(next) ?? []));
  }
  return found;
}

/**
 * Samples a process tree every 250 ms while `work` runs; returns the peak RSS and the CPU
 * seconds used per wall-clock second (1.0 is one core busy).
 */
export async function measureUsage<T>(
  pid: number | undefined,
  work: () => Promise<T>,
): Promise<{ result: T; peakRssBytes?: number; cores?: number }> {
  if (pid === undefined) {
    return { result: await work() };
  }
  const tree = [pid, ...descendantsOf(pid)];
  const usage = () => sumUsage(tree);
  const before = usage();
  const startedAt = performance.now();
  let peak = before?.rssBytes ?? 0;
  const timer = setInterval(() => {
    peak = Math.max(peak, usage()?.rssBytes ?? 0);
  }, 250);
  try {
    const result = await work();
    const after = usage();
    const seconds = (performance.now() - startedAt) / 1000;
    peak = Math.max(peak, after?.rssBytes ?? 0);
    const cores =
      before && after && seconds > 0 ? (after.cpuSeconds - before.cpuSeconds) / seconds : undefined;
    return { result, peakRssBytes: peak || undefined, cores };
  } finally {
    clearInterval(timer);
  }
}

function sumUsage(pids: number[]): ProcessUsage | undefined {
  let total: ProcessUsage | undefined;
  for (const pid of pids) {
    const stat = readStat(pid);
    if (!stat) {
      continue;
    }
    total ??= { rssBytes: 0, cpuSeconds: 0 };
    total.rssBytes += stat.rssPages * systemValue('PAGESIZE', 4096);
    total.cpuSeconds += (stat.utime + stat.stime) / systemValue('CLK_TCK', 100);
  }
  return total;
}

/**
 * Waits until the processes `pids` use less than `maxCores` of CPU over a 250 ms sample, such as
 * a queue contender whose worker still delivers the backlog of its last run. Returns how long it
 * waited and whether they went quiet before `timeoutMs`.
 */
export async function waitForQuiet(
  pids: number[],
  options: { maxCores?: number; timeoutMs?: number } = {},
): Promise<{ waitedMs: number; quiet: boolean }> {
  const maxCores = options.maxCores ?? 0.1;
  const timeoutMs = options.timeoutMs ?? 60_000;
  const tree = pids.flatMap((pid) => [pid, ...descendantsOf(pid)]);
  const startedAt = performance.now();
  for (;;) {
    const before = sumUsage(tree)?.cpuSeconds ?? 0;
    const sampledAt = performance.now();
    await new Promise((resolve) => setTimeout(resolve, 250));
    const after = sumUsage(tree)?.cpuSeconds ?? 0;
    const cores = (after - before) / ((performance.now() - sampledAt) / 1000);
    const waitedMs = performance.now() - startedAt;
    if (cores < maxCores) {
      return { waitedMs, quiet: true };
    }
    if (waitedMs >= timeoutMs) {
      return { waitedMs, quiet: false };
    }
  }
}
