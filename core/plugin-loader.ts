import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

/** Whether `specifier` names a file rather than an npm package. */
export function isPathSpecifier(specifier: string): boolean {
  return specifier.startsWith('./') || specifier.startsWith('../') || isAbsolute(specifier);
}

/**
 * Resolves a plugin module from the config file's folder: a relative path against that folder,
 * a package name through the `node_modules` folders above it (not the gateway's own install).
 */
export function resolvePluginModule(specifier: string, configDir: string): string {
  if (isPathSpecifier(specifier)) {
    const file = resolve(configDir, specifier);
    if (!existsSync(file)) {
      throw new Error(`no file at ${file}`);
    }
    return file;
  }
  const require = createRequire(join(configDir, 'pactown-config.js'));
  try {
    return require.resolve(specifier);
  } catch (error) {
    const fromExports = resolveImportCondition(specifier, configDir);
    if (fromExports) {
      return fromExports;
    }
    throw new Error(
      `package "${specifier}" is not installed where ${configDir} can see it; run npm install ${specifier} in that folder (${(error as Error).message.split('\n')[0]})`,
    );
  }
}

/** Finds an ESM-only package's entry, which `require.resolve` cannot see. */
function resolveImportCondition(name: string, fromDir: string): string | undefined {
  let dir = fromDir;
  for (;;) {
    const manifest = join(dir, 'node_modules', name, 'package.json');
    if (existsSync(manifest)) {
      const pkg = JSON.parse(readFileSync(manifest, 'utf8'));
      const root =
        typeof pkg.exports === 'object' ? (pkg.exports['.'] ?? pkg.exports) : pkg.exports;
      const entry =
        (typeof root === 'string' ? root : (root?.import ?? root?.default)) ??
        pkg.main ??
        'index.js';
      return join(dirname(manifest), typeof entry === 'string' ? entry : entry.default);
    }
    const parent = dirname(dir);
    if (parent === dir) {
      return undefined;
    }
    dir = parent;
  }
}

/** Imports a plugin module and returns its descriptors: a default export, or an array of them. */
export async function importPluginModule(file: string): Promise<unknown[]> {
  const module = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
  const exported = module.default ?? module.plugins ?? module.plugin;
  if (exported === undefined) {
    throw new Error('the module has no default export; export the plugin descriptor as default');
  }
  return Array.isArray(exported) ? exported : [exported];
}
