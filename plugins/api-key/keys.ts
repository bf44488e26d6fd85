import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parse } from 'yaml';
import type { OptionsIssue } from '../../core/index.js';

/** Options of the `api_key` auth scheme as written. */
export interface ApiKeyOptions {
  header?: string;
  query?: string;
  keys?: Record<string, string>;
  keys_file?: string;
  keys_env_prefix?: string;
  allowed_keys?: string[];
}

/** A stored key value given as its SHA-256 digest in hex instead of in plain text. */
const DIGEST_VALUE = /^sha256:([0-9a-f]{64})$/i;

/** Key names by the SHA-256 digest of the key, base64; or the problems that prevent loading. */
export interface LoadedKeys {
  byDigest: Map<string, string>;
  issues: OptionsIssue[];
}

/**
 * Loads the keys from `keys`, `keys_file` (a YAML or JSON map of name to key) and the variables
 * named `<keys_env_prefix><NAME>` (named by the lower-cased rest). A value may be the plain key
 * or `sha256:<hex digest>` so that the file does not hold the key itself.
 */
export function loadKeys(
  options: ApiKeyOptions,
  env: NodeJS.ProcessEnv,
  configDir: string,
): LoadedKeys {
  const byDigest = new Map<string, string>();
  const issues: OptionsIssue[] = [];
  const add = (name: string, value: unknown, path: (string | number)[]) => {
    if (typeof value !== 'string' || value === '') {
      issues.push({ path, message: `the key "${name}" is empty or not a string` });
      return;
    }
    byDigest.set(digestOf(value), name);
  };
  for (const [name, value] of Object.entries(options.keys ?? {})) {
    add(name, value, ['keys', name]);
  }
  if (options.keys_file !== undefined) {
    const file = resolve(configDir, options.keys_file);
    let parsed: unknown;
    try {
      parsed = parse(readFileSync(file, 'utf8'));
    } catch (error) {
      issues.push({
        path: ['keys_file'],
        message: `cannot read ${file}: ${(error as Error).message}`,
      });
      parsed = {};
    }
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
      issues.push({ path: ['keys_file'], message: `${file} must be a map of key name to key` });
    } else {
      for (const [name, value] of Object.entries(parsed)) {
        add(name, value, ['keys_file']);
      }
    }
  }
  const prefix = options.keys_env_prefix;
  if (prefix !== undefined) {
    for (const [variable, value] of Object.entries(env)) {
      if (variable.startsWith(prefix) && variable.length > prefix.length) {
        add(variable.slice(prefix.length).toLowerCase(), value, ['keys_env_prefix']);
      }
    }
  }
  if (byDigest.size === 0 && issues.length === 0) {
    issues.push({
      path: [],
      message: 'no API keys are configured, so every request would be rejected',
      hint: 'give keys:, keys_file: or keys_env_prefix: with at least one key',
    });
  }
  const names = new Set(byDigest.values());
  for (const [index, name] of (options.allowed_keys ?? []).entries()) {
    if (!names.has(name)) {
      issues.push({ path: ['allowed_keys', index], message: `no key is named "${name}"` });
    }
  }
  return { byDigest, issues };
}

/**
 * Returns the lookup key of an API key: its SHA-256 digest in base64. A stored `sha256:` value is used as
 * given, so a presented key matches it by the same digest.
 */
export function digestOf(value: string): string {
  const stored = DIGEST_VALUE.exec(value);
  if (stored) {
    return Buffer.from(stored[1], 'hex').toString('base64');
  }
  return createHash('sha256').update(value).digest('base64');
}

/** Returns the digest of a key as a client presents it (never a `sha256:` value). */
export function presentedDigest(value: string): string {
  return createHash('sha256').update(value).digest('base64');
}
