import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { OptionsIssue } from '../../core/index.js';
import { describeHashProblem } from './hashes.js';

/** Options of the `basic` auth scheme as written. */
export interface BasicAuthOptions {
  users_file?: string;
  users?: Record<string, string>;
  realm?: string;
  allowed_users?: string[];
  cache_ttl?: number | string;
}

/** Password hashes by user name, or the problems that prevent loading them. */
export interface LoadedUsers {
  hashes: Map<string, string>;
  issues: OptionsIssue[];
}

/**
 * Loads users from `users` (name to hash) and `users_file`, a file of `name:hash` lines in the
 * htpasswd layout where blank lines and lines starting with `#` are skipped.
 */
export function loadUsers(options: BasicAuthOptions, configDir: string): LoadedUsers {
  const hashes = new Map<string, string>();
  const issues: OptionsIssue[] = [];
  for (const [name, hash] of Object.entries(options.users ?? {})) {
    const problem = describeHashProblem(hash);
    if (problem) {
      issues.push({ path: ['users', name], message: `user "${name}": ${problem}` });
    } else {
      hashes.set(name, hash);
    }
  }
  if (options.users_file !== undefined) {
    readUsersFile(resolve(configDir, options.users_file), hashes, issues);
  }
  if (hashes.size === 0 && issues.length === 0) {
    issues.push({
      path: [],
      message: 'no users are configured, so every request would be rejected',
      hint: 'give users_file: with name:hash lines, or users:',
    });
  }
  for (const [index, name] of (options.allowed_users ?? []).entries()) {
    if (!hashes.has(name)) {
      issues.push({ path: ['allowed_users', index], message: `no user is named "${name}"` });
    }
  }
  return { hashes, issues };
}

function readUsersFile(file: string, hashes: Map<string, string>, issues: OptionsIssue[]): void {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    issues.push({
      path: ['users_file'],
      message: `cannot read ${file}: ${(error as Error).message}`,
    });
    return;
  }
  for (const [index, raw] of text.split(/\r?\n/).entries()) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) {
      continue;
    }
    const colon = line.indexOf(':');
    const name = colon > 0 ? line.slice(0, colon) : '';
    const problem = colon > 0 ? describeHashProblem(line.slice(colon + 1)) : 'expected name:hash';
    if (problem) {
      issues.push({ path: ['users_file'], message: `${file} line ${index + 1}: ${problem}` });
      continue;
    }
    hashes.set(name, line.slice(colon + 1));
  }
}
