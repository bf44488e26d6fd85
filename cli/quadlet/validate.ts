import {
  ConfigError,
  type ConfigIssue,
  loadConfigText,
  type PluginRegistry,
} from '../../core/index.js';
import { builtinLoadOptions } from '../builtins.js';
import type { DeploySource } from './source.js';

/** Facts that deploy learns from validating the source config. */
export interface SourceCheck {
  /** Whether this gateway build has a `storage:` config section. */
  storageSection: boolean;
  /** Variables with no value here and no default; the gateway checks them when it starts. */
  unsetVariables: string[];
}

const UNSET = /^environment variable (\S+) is not set and has no default$/;

/**
 * Validates the config as `pactown validate` does, with line numbers of the source file (also for
 * a Markdown file). Variables unset on this machine are expected, because their values live in the
 * server's .env, so problems that only come from them are left out. Throws {@link ConfigError}
 * with the remaining problems.
 */
export async function checkSourceConfig(
  source: DeploySource,
  env: NodeJS.ProcessEnv = process.env,
): Promise<SourceCheck> {
  const options = builtinLoadOptions(env);
  let registry: PluginRegistry | undefined;
  const setupRegistry = (created: PluginRegistry) => {
    options.setupRegistry?.(created);
    registry = created;
  };
  // Blank lines in front keep line numbers those of the Markdown file.
  const text = '\n'.repeat(source.firstLine - 1) + source.yaml;
  try {
    await loadConfigText(text, source.file, { ...options, setupRegistry });
    return { storageSection: hasStorageSection(registry), unsetVariables: [] };
  } catch (error) {
    if (!(error instanceof ConfigError)) {
      throw error;
    }
    const { unset, remaining } = splitUnsetIssues(error.issues);
    if (remaining.length > 0) {
      throw new ConfigError(remaining);
    }
    return { storageSection: hasStorageSection(registry), unsetVariables: unset };
  }
}

function hasStorageSection(registry: PluginRegistry | undefined): boolean {
  return registry !== undefined && 'storage' in registry.configSections();
}

/** Separates unset-variable issues, and issues at the same key paths, from the rest. */
function splitUnsetIssues(issues: ConfigIssue[]): { unset: string[]; remaining: ConfigIssue[] } {
  const unset = new Set<string>();
  const paths: string[] = [];
  for (const issue of issues) {
    const match = UNSET.exec(issue.message);
    if (match) {
      unset.add(match[1]);
      paths.push(issue.path);
    }
  }
  const dependsOnUnset = (path: string) =>
    paths.some(
      (unsetPath) =>
        path === unsetPath || path.startsWith(`${unsetPath}.`) || path.startsWith(`${unsetPath}[`),
    );
  const remaining = issues.filter(
    (issue) => !UNSET.test(issue.message) && !dependsOnUnset(issue.path),
  );
  return { unset: [...unset], remaining };
}
