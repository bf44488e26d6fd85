import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ERROR_REGISTRIES as CORE_REGISTRIES } from '../core/error-codes.js';
import { POLICY_ERROR_CODES } from '../plugins/shared/error-codes.js';

const ERROR_REGISTRIES = { ...CORE_REGISTRIES, 'policies.md': POLICY_ERROR_CODES };

const DOCS = fileURLToPath(new URL('../../docs/', import.meta.url));
const SOURCES = fileURLToPath(new URL('../../', import.meta.url));

it('error codes are unique across areas', () => {
  const seen = new Map<string, string>();
  for (const [page, registry] of Object.entries(ERROR_REGISTRIES)) {
    for (const code of Object.keys(registry)) {
      assert.equal(
        seen.get(code),
        undefined,
        `${code} is defined for ${seen.get(code)} and ${page}`,
      );
      seen.set(code, page);
    }
  }
});

it('error codes are documented', () => {
  for (const [page, registry] of Object.entries(ERROR_REGISTRIES)) {
    const text = readFileSync(join(DOCS, page), 'utf8');
    for (const code of Object.keys(registry)) {
      assert.ok(text.includes(code), `${code} is not documented in docs/${page}`);
    }
  }
});

it('answered codes are registered', () => {
  const registered = new Set(
    Object.values(ERROR_REGISTRIES).flatMap((registry) => Object.keys(registry)),
  );
  const used = new Set<string>();
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) {
        walk(path);
      } else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts')) {
        for (const match of readFileSync(path, 'utf8').matchAll(/'(PACTOWN_ERR_[A-Z_]+)'/g)) {
          used.add(match[1]);
        }
      }
    }
  };
  for (const folder of ['core', 'plugins', 'providers']) {
    walk(join(SOURCES, folder));
  }
  const missing = [...used].filter(
    (code) => !registered.has(code) && code !== 'PACTOWN_ERR_CONFIG_INVALID',
  );
  assert.deepEqual(missing, [], 'codes used in the source but absent from every registry');
});
