import { writeFileSync } from 'node:fs';
import { loadConfigText, PluginRegistry, publishableSchema } from '../../core/index.js';
import { builtinLoadOptions } from '../builtins.js';
import { type Command, parseCommandArgs } from '../command.js';

/** Composes the config JSON Schema from the core and every built-in plugin. */
export async function builtinSchema(): Promise<Record<string, unknown>> {
  let registry: PluginRegistry | undefined;
  const options = builtinLoadOptions({});
  const setup = options.setupRegistry;
  await loadConfigText('routes: []\n', '<schema>', {
    ...options,
    setupRegistry: (created) => {
      setup?.(created);
      registry = created;
    },
  });
  return publishableSchema(registry ?? new PluginRegistry());
}

export const schemaCommand: Command = {
  name: 'schema',
  summary: 'print the JSON Schema of the config file, for editors',
  help: `Usage: pactown schema [--out FILE]

Prints the JSON Schema of the config, composed from the core and every built-in plugin, or
writes it to FILE. Point your editor's YAML language server at it:
  # yaml-language-server: $schema=./docs/config.schema.json`,
  async run(args) {
    const { values } = parseCommandArgs(args, { out: { type: 'string', short: 'o' } });
    const text = `${JSON.stringify(await builtinSchema(), null, 2)}\n`;
    if (typeof values.out === 'string') {
      writeFileSync(values.out, text);
      console.log(`wrote ${values.out}`);
    } else {
      process.stdout.write(text);
    }
    return 0;
  },
};
