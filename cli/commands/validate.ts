import { loadConfig } from '../../core/index.js';
import { builtinLoadOptions } from '../builtins.js';
import { CONFIG_OPTION, type Command, configArgument, parseCommandArgs } from '../command.js';

export const validateCommand: Command = {
  name: 'validate',
  summary: 'check a config file and print every error',
  help: `Usage: pactown validate [FILE | --config FILE]

Checks FILE (else $ROUTES_CONFIG, else ./routes.yaml) against the config schema and every plugin's options. Prints all errors with
file, line, column and key path. Exits 0 when valid, 1 when not.`,
  async run(args) {
    const { values, positionals } = parseCommandArgs(args, CONFIG_OPTION);
    const file = configArgument('validate', values, positionals);
    const loaded = await loadConfig(file, builtinLoadOptions());
    const count = loaded.config.routes.length;
    console.log(`${loaded.config.file}: valid, ${count} ${count === 1 ? 'route' : 'routes'}`);
    return 0;
  },
};
