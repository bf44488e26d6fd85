#!/usr/bin/env node
// Runs every compiled test file under dist/ with node:test. Arguments narrow the run to files
// whose path contains one of them, e.g. `node scripts/run-tests.mjs proxy webhooks`.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

function findTests(dir) {
  const files = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) {
      if (name !== 'node_modules') files.push(...findTests(path));
    } else if (name.endsWith('.test.js')) {
      files.push(path);
    }
  }
  return files;
}

const filters = process.argv.slice(2);
const files = findTests('dist')
  .filter((file) => filters.length === 0 || filters.some((filter) => file.includes(filter)))
  .sort();
if (files.length === 0) {
  console.error('no test files found under dist/; run npm run build first');
  process.exit(1);
}
// Tests write configs, SQLite files and packages under os.tmpdir(); one folder per run, removed
// afterwards, keeps them from piling up in /tmp.
const scratch = mkdtempSync(join(tmpdir(), 'pactown-tests-'));
const result = spawnSync(
  process.execPath,
  ['--test', '--test-concurrency=1', '--test-timeout=120000', ...files],
  { stdio: 'inherit', env: { ...process.env, TMPDIR: scratch } },
);
rmSync(scratch, { recursive: true, force: true });
process.exit(result.status ?? 1);
