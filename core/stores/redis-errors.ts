import { GatewayError } from '../errors.js';

/**
 * Error codes of the shared stores, in the same form as the core registry in core/errors.ts.
 * Each is documented with its fix in docs/scaling.md.
 */
export const STORE_ERROR_CODES = {
  PACTOWN_ERR_IDEMPOTENCY_STORE_UNAVAILABLE: {
    status: 503,
    message: 'The idempotency store failed, so the event could not be de-duplicated',
  },
} as const;

/**
 * Wraps a failure of the idempotency store as a 503, so a provider sending a `sync` webhook
 * retries it later instead of getting a 500.
 */
export function idempotencyStoreError(cause: unknown): GatewayError {
  const reason = (cause as Error)?.message ?? String(cause);
  return new GatewayError(
    'PACTOWN_ERR_IDEMPOTENCY_STORE_UNAVAILABLE',
    `the idempotency store failed (${reason}); send the event again later`,
    503,
    { cause },
  );
}
