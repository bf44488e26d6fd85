import { createRedactor, loadConfig } from '../../core/index.js';
import { describeRoute } from '../../core/server/endpoints.js';
import { builtinLoadOptions } from '../builtins.js';
import { CONFIG_OPTION, type Command, configArgument, parseCommandArgs } from '../command.js';

export const routesCommand: Command = {
  name: 'routes',
  summary: 'print the compiled route table of a config file',
  help: `Usage: pactown routes [FILE | --config FILE] [--json]

Prints each route of FILE (else $ROUTES_CONFIG, else ./routes.yaml) with its kind, target and policies in the order they run.
Secrets are shown as "***". --json prints what GET /routes returns.`,
  async run(args) {
    const { values, positionals } = parseCommandArgs(args, {
      ...CONFIG_OPTION,
      json: { type: 'boolean' },
    });
    const file = configArgument('routes', values, positionals);
    const loaded = await loadConfig(file, builtinLoadOptions());
    const redact = createRedactor(process.env, loaded.variables);
    const table = loaded.config.routes.map((route) =>
      describeRoute(route, loaded.registry, redact),
    );
    if (values.json) {
      console.log(JSON.stringify({ routes: table }, null, 2));
      return 0;
    }
    for (const route of table) {
      const policies = (route.plugins as { name: string }[]).map((plugin) => plugin.name);
      // A webhook route names its provider beside its kind; a route without a target shows "-".
      const kind = route.provider ? `${route.kind} ${route.provider}` : String(route.kind);
      const target = route.target ?? '-';
      console.log(
        `${String(route.path).padEnd(32)} ${kind.padEnd(16)} ${String(target).padEnd(36)} ${policies.join(' -> ') || '-'}`,
      );
    }
    return 0;
  },
};
