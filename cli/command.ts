import { type ParseArgsConfig, parseArgs } from 'node:util';

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
}

/** An error in how a command was called; printed with the command's help. */
export class UsageError extends Error {}
