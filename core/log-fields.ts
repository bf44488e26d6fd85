import type { FastifyBaseLogger } from 'fastify';

/**
 * Returns `fields` without the keys that `log` already binds to the same value, so that a log
 * line names each field once. pino writes a child's bindings and the call's fields side by side,
 * and repeats a key that appears in both.
 */
export function unboundFields(
  log: FastifyBaseLogger,
  fields: Record<string, unknown>,
): Record<string, unknown> {
  const bound = (log as { bindings?: () => Record<string, unknown> }).bindings?.() ?? {};
  const unbound: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(fields)) {
    if (bound[key] !== value) {
      unbound[key] = value;
    }
  }
  return unbound;
}
