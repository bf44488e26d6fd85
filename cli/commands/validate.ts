import { loadConfig } from '../../core/index.js';
import { builtinLoadOptions } from '../builtins.js';
import { type Command, parseCommandArgs, UsageError } from '../command.js';

export const validateCommand: Command = {
  name: 'validate',
  summary: 'check a config file and print every error',
  help: `Usage: pactown validate FILE

Checks FILE against the config schema and every plugin's options. Prints all errors with
file, line, column and key path. Exits 0 when valid, 1 when not.`,
  async run(args) {
    const { positionals } = parseCommandArgs(args, {});
    if (positionals.length !== 1) {
      throw new UsageError('validate takes exactly one FILE');
    }
    const loaded = await loadConfig(positionals[0], builtinLoadOptions());
    const count = loaded.config.routes.length;
    console.log(`${loaded.config.file}: valid, ${count} ${count === 1 ? 'route' : 'routes'}`);
    return 0;
  },
};
