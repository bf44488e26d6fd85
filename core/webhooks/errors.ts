/**
 * Error codes of webhook routes, in the same form as the core registry in core/errors.ts. Each
 * is documented with its fix in docs/webhooks.md.
 */
export const WEBHOOK_ERROR_CODES = {
  PACTOWN_ERR_WEBHOOK_SIGNATURE: {
    status: 401,
    message: 'Webhook signature, timestamp or other proof of origin did not verify',
  },
  PACTOWN_ERR_WEBHOOK_SOURCE: {
    status: 401,
    message: 'Webhook came from an address outside the route allow-list',
  },
  PACTOWN_ERR_WEBHOOK_TOKEN: {
    status: 401,
    message: 'Webhook URL token is missing or wrong',
  },
  PACTOWN_ERR_WEBHOOK_PAYLOAD: {
    status: 400,
    message: 'Webhook body is not what the provider sends',
  },
} as const;

/** Chooses the code of a failed verification that names none, by its status. */
export function defaultRejectionCode(status: number): string {
  if (status === 415) {
    return 'PACTOWN_ERR_UNSUPPORTED_MEDIA_TYPE';
  }
  if (status === 400) {
    return 'PACTOWN_ERR_WEBHOOK_PAYLOAD';
  }
  return 'PACTOWN_ERR_WEBHOOK_SIGNATURE';
}
