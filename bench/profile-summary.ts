import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** A V8 CPU profile as `node --cpu-prof` writes it. */
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

/** Self time of one function or one package, in milliseconds and as a share of busy time. */
export interface ProfileEntry {
  name: string;
  selfMs: number;
  share: number;
}

/** A profile's time split by function and by package or area. */
export interface ProfileSummary {
  /** Sampled time without `(idle)`, the time the process waited for I/O. */
  busyMs: number;
  functions: ProfileEntry[];
  packages: ProfileEntry[];
  /** Time with the function anywhere on the stack, for functions of packages and of pactown. */
  inclusive: ProfileEntry[];
}

/** Sums self time per function and per package, leaving out idle time; GC is its own entry. */
export function summarizeProfile(profile: CpuProfile, top = 25): ProfileSummary {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const selfByNode = new Map<number, number>();
  let totalUs = 0;
  profile.samples.forEach((id, index) => {
    if (byId.get(id)?.callFrame.functionName === '(idle)') {
      return;
    }
    const delta = profile.timeDeltas[index] ?? 0;
    totalUs += delta;
    selfByNode.set(id, (selfByNode.get(id) ?? 0) + delta);
  });
  const functions = new Map<string, number>();
  const packages = new Map<string, number>();
  for (const [id, us] of selfByNode) {
    const frame = byId.get(id)!.callFrame;
    const name = frameName(frame);
    functions.set(name, (functions.get(name) ?? 0) + us);
    const area = areaOf(frame.url, frame.functionName);
    packages.set(area, (packages.get(area) ?? 0) + us);
  }
  const inclusive = inclusiveTimes(profile.nodes, selfByNode);
  const entries = (map: Map<string, number>) =>
    [...map]
      .map(([name, us]) => ({ name, selfMs: us / 1000, share: totalUs > 0 ? us / totalUs : 0 }))
      .sort((a, b) => b.selfMs - a.selfMs);
  return {
    busyMs: totalUs / 1000,
    functions: entries(functions).slice(0, top),
    packages: entries(packages),
    inclusive: entries(inclusive).slice(0, top),
  };
}

function frameName(frame: ProfileNode['callFrame']): string {
  return `${frame.functionName || '(anonymous)'} ${shortUrl(frame.url)}:${frame.lineNumber + 1}`;
}

/** Sums each sample once for every distinct package or pactown function on its stack. */
function inclusiveTimes(nodes: ProfileNode[], selfByNode: Map<number, number>) {
  const parentOf = new Map<number, ProfileNode>();
  const byId = new Map(nodes.map((node) => [node.id, node]));
  for (const node of nodes) {
    for (const child of node.children ?? []) {
      parentOf.set(child, node);
    }
  }
  const totals = new Map<string, number>();
  for (const [id, us] of selfByNode) {
    const seen = new Set<string>();
    for (let node = byId.get(id); node; node = parentOf.get(node.id)) {
      const { url } = node.callFrame;
      if (!url.includes('node_modules/') && !url.includes('/dist/')) {
        continue;
      }
      const name = frameName(node.callFrame);
      if (!seen.has(name)) {
        seen.add(name);
        totals.set(name, (totals.get(name) ?? 0) + us);
      }
    }
  }
  return totals;
}

function shortUrl(url: string): string {
  const modules = url.lastIndexOf('node_modules/');
  if (modules !== -1) {
    return url.slice(modules + 'node_modules/'.length);
  }
  const dist = url.lastIndexOf('/dist/');
  if (dist !== -1) {
    return url.slice(dist + '/dist/'.length);
  }
  return url.replace(/^file:\/\//, '');
}

/** Names the package (or Node area) a frame belongs to. */
function areaOf(url: string, functionName: string): string {
  if (!url) {
    return functionName.startsWith('(') ? functionName : '(native)';
  }
  const modules = url.lastIndexOf('node_modules/');
  if (modules !== -1) {
    const rest = url.slice(modules + 'node_modules/'.length).split('/');
    return rest[0].startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0];
  }
  if (url.startsWith('node:')) {
    return `node:${url.slice(5).split('/')[0]}`;
  }
  const dist = url.lastIndexOf('/dist/');
  return dist !== -1
    ? `pactown ${url
        .slice(dist + 6)
        .split('/')
        .slice(0, 2)
        .join('/')}`
    : url;
}

/** Formats a summary as two Markdown tables. */
export function formatSummary(title: string, summary: ProfileSummary, rows = 15): string {
  const lines = [
    `#### ${title} (${Math.round(summary.busyMs)} ms busy)`,
    '',
    '| package or area | self time | share |',
    '|---|---:|---:|',
    ...summary.packages
      .slice(0, rows)
      .map(
        (entry) => `| ${entry.name} | ${entry.selfMs.toFixed(0)} ms | ${percent(entry.share)} |`,
      ),
    '',
    '| function | self time | share |',
    '|---|---:|---:|',
    ...summary.functions
      .slice(0, rows)
      .map(
        (entry) =>
          `| \`${entry.name.replace(/\|/g, '\\|')}\` | ${entry.selfMs.toFixed(0)} ms | ${percent(entry.share)} |`,
      ),
    '',
    '| function, with what it calls | total time | share |',
    '|---|---:|---:|',
    ...summary.inclusive
      .slice(0, rows)
      .map(
        (entry) =>
          `| \`${entry.name.replace(/\|/g, '\\|')}\` | ${entry.selfMs.toFixed(0)} ms | ${percent(entry.share)} |`,
      ),
    '',
  ];
  return lines.join('\n');
}

function percent(share: number): string {
  return `${(share * 100).toFixed(1)}%`;
}

/** Summarizes the newest `.cpuprofile` in each folder below `dir`. */
function main(dir: string): void {
  for (const name of readdirSync(dir).sort()) {
    const folder = join(dir, name);
    if (!statSync(folder).isDirectory()) {
      continue;
    }
    const profiles = readdirSync(folder)
      .filter((file) => file.endsWith('.cpuprofile'))
      .map((file) => join(folder, file))
      .sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs);
    if (profiles.length === 0) {
      continue;
    }
    const profile = JSON.parse(readFileSync(profiles[0], 'utf8')) as CpuProfile;
    console.log(formatSummary(name, summarizeProfile(profile)));
  }
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].replace(/.*\/dist\//, '/'))) {
  const dir = process.argv[2];
  if (!dir) {
    console.error('usage: node dist/bench/profile-summary.js PROFILE_DIR');
    process.exit(2);
  }
  main(dir);
}
