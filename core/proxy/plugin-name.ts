import type { FastifyInstance } from 'fastify';

/**
 * Gives an inline plugin function the name Fastify shows for it. Without one, Fastify searches
 * the whole require cache for the function on every registration, which made start-up with
 * thousands of routes spend most of its time there (see docs/benchmarks.md).
 */
export function namedPlugin<T extends (scope: FastifyInstance) => Promise<void>>(
  name: string,
  plugin: T,
): T {
  (plugin as unknown as Record<symbol, string>)[Symbol.for('fastify.display-name')] = name;
  return plugin;
}
