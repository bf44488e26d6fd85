import type { FastifyBaseLogger } from 'fastify';

/**
 * Log fields whose values never reach a log line: credential headers, and the arguments of a
 * failed Redis command, because ioredis attaches the command to its errors, and a failed `AUTH`
 * carries the password. Paths in pino's `redact` syntax.
 */
export const REDACTED_LOG_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-api-key"]',
  'req.headers["stripe-signature"]',
  'req.headers["x-hub-signature-256"]',
  'req.headers["webhook-signature"]',
  'err.command.args',
  '*.command.args',
];

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
