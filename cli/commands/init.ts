import { existsSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { type Command, parseCommandArgs } from '../command.js';

/** The commented example that `pactown init` writes. */
export const EXAMPLE_CONFIG = `# Pactown Gateway routes. Reference: docs/configuration.md
# \${NAME} reads an environment variable; \${NAME:-default} gives a default.

server:
  port: \${PORT:-8080}
  # Proxies whose X-Forwarded-For is believed, as addresses or CIDR ranges.
  trust_proxy: [127.0.0.1/32]

routes:
  # /api/v1 matches /api/v1 and /api/v1/..., not /api/v10. The prefix is stripped upstream.
  - path: /api/v1
    target: \${BACKEND_URL:-http://127.0.0.1:3000}
    timeout: 30      # seconds; 504 when the upstream does not respond in time
    retries: 2       # only idempotent methods, or requests with an Idempotency-Key
`;

export const initCommand: Command = {
  name: 'init',
  summary: 'write a commented example config',
  help: `Usage: pactown init [FILE] [--force]

Writes a commented example config to FILE (default ./routes.yaml). Refuses to overwrite an
existing file unless --force is given.`,
  async run(args) {
    const { values, positionals } = parseCommandArgs(args, { force: { type: 'boolean' } });
    const file = resolve(positionals[0] ?? 'routes.yaml');
    if (existsSync(file) && !values.force) {
      console.error(`${file} already exists; pass --force to overwrite it`);
      return 1;
    }
    writeFileSync(file, EXAMPLE_CONFIG);
    console.log(`wrote ${file}; check it with: pactown validate ${file}`);
    return 0;
  },
};
