import { createRedactor, loadConfig } from '../../core/index.js';
import { describeRoute } from '../../core/server/endpoints.js';
import { builtinLoadOptions } from '../builtins.js';
import { type Command, parseCommandArgs, UsageError } from '../command.js';

export const routesCommand: Command = {
  name: 'routes',
  summary: 'print the compiled route table of a config file',
  help: `Usage: pactown routes FILE [--json]

Prints each route of FILE with its kind, target and policies in the order they run.
Secrets are shown as "***". --json prints what GET /routes returns.`,
  async run(args) {
    const { values, positionals } = parseCommandArgs(args, { json: { type: 'boolean' } });
    if (positionals.length !== 1) {
      throw new UsageError('routes takes exactly one FILE');
    }
    const loaded = await loadConfig(positionals[0], builtinLoadOptions());
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
      const target = route.target ?? route.provider ?? '';
      console.log(
        `${String(route.path).padEnd(32)} ${String(route.kind).padEnd(8)} ${String(target).padEnd(36)} ${policies.join(' -> ') || '-'}`,
      );
    }
    return 0;
  },
};
