#!/usr/bin/env node
import { ConfigError } from '../core/index.js';
import { type Command, UsageError } from './command.js';
import { deliveriesCommand } from './commands/deliveries.js';
import { initCommand } from './commands/init.js';
import { quadletCommand } from './commands/quadlet.js';
import { routesCommand } from './commands/routes.js';
import { schemaCommand } from './commands/schema.js';
import { signCommand } from './commands/sign.js';
import { startCommand } from './commands/start.js';
import { validateCommand } from './commands/validate.js';

/** Every `pactown` subcommand; modules add theirs here. */
export const COMMANDS: Command[] = [
  startCommand,
  validateCommand,
  routesCommand,
  initCommand,
  schemaCommand,
  signCommand,
  quadletCommand,
  deliveriesCommand,
];

function usage(): string {
  const lines = COMMANDS.map((command) => `  ${command.name.padEnd(12)} ${command.summary}`);
  return `Usage: pactown COMMAND [options]\n\nCommands:\n${lines.join('\n')}\n\nRun pactown COMMAND --help for a command's options.`;
}

async function main(argv: string[]): Promise<number> {
  const [name, ...args] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    console.log(usage());
    return name ? 0 : 1;
  }
  const command = COMMANDS.find((candidate) => candidate.name === name);
  if (!command) {
    // A subcommand typed on its own, such as `deploy` for `quadlet deploy`.
    const parent = COMMANDS.find((candidate) =>
      candidate.help.includes(`pactown ${candidate.name} ${name}`),
    );
    const hint = parent ? `; did you mean "pactown ${parent.name} ${name}"?` : '';
    console.error(`unknown command "${name}"${hint}\n\n${usage()}`);
    return 1;
  }
  if (args.includes('--help') || args.includes('-h')) {
    console.log(command.help);
    return 0;
  }
  try {
    return await command.run(args);
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message);
      return 1;
    }
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE' || code === 'EACCES') {
      const reason = code === 'EADDRINUSE' ? 'is already in use' : 'needs more privileges';
      const { address, port } = error as { address?: string; port?: number };
      const place = address === undefined ? '' : ` on ${address}:${port}`;
      console.error(
        `cannot listen${place}: the address ${reason}; choose another port with --port N, which overrides server.port and PORT`,
      );
      return 1;
    }
    // An unknown or malformed option prints the whole usage text. A bad value prints its
    // message alone, so that the message stays in view.
    if ((error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      console.error(`${(error as Error).message}\n\n${command.help}`);
      return 2;
    }
    if (error instanceof UsageError) {
      console.error(`${error.message}\nrun "pactown ${command.name} --help" for the options`);
      return 2;
    }
    throw error;
  }
}

// A closed pipe (`pactown schema | head`) ends the output; it is not an error.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') {
    process.exit(0);
  }
  throw error;
});

main(process.argv.slice(2)).then(
  (code) => {
    // A negative code means the command keeps running (a server) and exits by itself.
    if (code >= 0) {
      process.exitCode = code;
    }
  },
  (error: Error) => {
    console.error(`pactown: ${error.stack ?? error.message}`);
    process.exitCode = 1;
  },
);
