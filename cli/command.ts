import { type ParseArgsConfig, parseArgs } from 'node:util';
import { configPath } from '../core/index.js';

type OptionsConfig = NonNullable<ParseArgsConfig['options']>;

/** One `pactown` subcommand. */
export interface Command {
  name: string;
  summary: string;
  /** Full help text, printed by `pactown NAME --help`. */
  help: string;
  /** Runs the command; resolves with the process exit code. */
  run(args: string[]): Promise<number>;
}

/** Parses `args` for a command, turning unknown options into a usage error. */
export function parseCommandArgs(
  args: string[],
  options: OptionsConfig,
): { values: Record<string, string | boolean | undefined>; positionals: string[] } {
  try {
    const parsed = parseArgs({
      args,
      options: { ...options, help: { type: 'boolean', short: 'h' } },
      allowPositionals: true,
      strict: true,
    });
    return {
      values: parsed.values as Record<string, string | boolean | undefined>,
      positionals: parsed.positionals,
    };
  } catch (error) {
    // Node's own text for an unknown option explains how to pass a positional argument that
    // starts with "-", which is not what a mistyped option needs.
    const unknown = /^Unknown option '([^']+)'/.exec((error as Error).message);
    if ((error as NodeJS.ErrnoException).code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' && unknown) {
      (error as Error).message = `unknown option ${unknown[1]}`;
    }
    throw error;
  }
}

/** An error in how a command was called; printed with the command's help. */
export class UsageError extends Error {}

/** The options of a command that reads a config file. */
export const CONFIG_OPTION: OptionsConfig = { config: { type: 'string', short: 'c' } };

/**
 * Returns the config file of a command: its one FILE argument or `--config FILE` (not both),
 * else `$ROUTES_CONFIG`, else `./routes.yaml`.
 */
export function configArgument(
  command: string,
  values: Record<string, string | boolean | undefined>,
  positionals: string[],
  env: NodeJS.ProcessEnv = process.env,
): string {
  if (positionals.length > 1) {
    throw new UsageError(`${command} takes one config FILE, got ${positionals.length}`);
  }
  const option = values.config as string | undefined;
  if (option !== undefined && positionals.length === 1) {
    throw new UsageError(`${command} takes the config as FILE or as --config FILE, not both`);
  }
  return configPath(option ?? positionals[0], env);
}
