/**
 * Error codes of queued delivery and the admin API, in the same form as the core registry in
 * core/errors.ts. Each is documented with its fix in docs/delivery.md.
 */
export const DELIVERY_ERROR_CODES = {
  PACTOWN_ERR_DELIVERY_STORE_UNAVAILABLE: {
    status: 503,
    message: 'The event could not be stored for delivery; the provider should retry',
  },
  PACTOWN_ERR_DELIVERY_NOT_FOUND: { status: 404, message: 'No delivery has this id' },
  PACTOWN_ERR_DELIVERY_IN_FLIGHT: {
    status: 409,
    message: 'The delivery has an attempt in flight and cannot be replayed now',
  },
  PACTOWN_ERR_DELIVERY_NOT_CONFIGURED: {
    status: 404,
    message: 'This gateway has no delivery store',
  },
  PACTOWN_ERR_ADMIN_UNAUTHORIZED: {
    status: 401,
    message: 'Missing or wrong admin bearer token',
  },
  PACTOWN_ERR_ADMIN_INVALID_FILTER: {
    status: 400,
    message: 'A delivery filter or page parameter is invalid',
  },
} as const;

export type DeliveryErrorCode = keyof typeof DELIVERY_ERROR_CODES;

/** A problem with a filter of the admin API or the CLI. */
export class DeliveryFilterError extends Error {
  readonly code = 'PACTOWN_ERR_ADMIN_INVALID_FILTER';
}
