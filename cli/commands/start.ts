import { getHeapStatistics } from 'node:v8';
import { configPath, createGateway, type Gateway, loadConfig } from '../../core/index.js';
import { builtinLoadOptions } from '../builtins.js';
import {
  CONFIG_OPTION,
  type Command,
  configArgument,
  parseCommandArgs,
  UsageError,
} from '../command.js';

/** Starts a gateway and stops it gracefully on SIGTERM or SIGINT. */
export async function startGateway(options: {
  config?: string;
  port?: string;
  host?: string;
}): Promise<Gateway> {
  const file = configPath(options.config);
  const loaded = await loadConfig(file, builtinLoadOptions());
  let port: number | undefined;
  if (options.port !== undefined) {
    port = Number(options.port);
    if (!Number.isInteger(port) || port < 0 || port > 65535) {
      throw new UsageError(`--port must be a port number from 0 to 65535, got "${options.port}"`);
    }
  }
  const gateway = await createGateway(loaded);
  const url = await gateway.listen(port, options.host);
  // The heap limit shows whether NODE_OPTIONS sized the heap (docs/deployment.md, Memory).
  const heapLimitMiB = Math.round(getHeapStatistics().heap_size_limit / 2 ** 20);
  gateway.app.log.info(
    { url, config: file, routes: loaded.config.routes.length, heap_limit_mib: heapLimitMiB },
    'gateway started',
  );
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) {
      gateway.app.log.warn({ signal }, 'second signal received, exiting at once');
      process.exit(1);
    }
    stopping = true;
    gateway.app.log.info({ signal }, 'gateway stopping');
    gateway.close().then(
      () => {
        gateway.app.log.info('gateway stopped');
        process.exit(0);
      },
      (error: Error) => {
        gateway.app.log.error({ err: error }, 'gateway stopped with an error');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
  return gateway;
}

export const startCommand: Command = {
  name: 'start',
  summary: 'serve the routes of a config file',
  help: `Usage: pactown start [FILE | --config FILE] [--port N] [--host ADDRESS]

Serves the routes of FILE. The config is FILE or --config, else $ROUTES_CONFIG, else
./routes.yaml.
The port is --port, else server.port, else $PORT, else 8080. SIGTERM or SIGINT stops the
gateway after in-flight requests finish (bounded by server.shutdown_timeout).`,
  async run(args) {
    const { values, positionals } = parseCommandArgs(args, {
      ...CONFIG_OPTION,
      port: { type: 'string', short: 'p' },
      host: { type: 'string' },
    });
    const config = configArgument('start', values, positionals);
    await startGateway({ ...(values as { port?: string; host?: string }), config });
    return -1;
  },
};
