/**
 * Error codes that the built-in policies respond with, in the same form as the core registry in
 * core/errors.ts. Each is documented with its fix in docs/policies.md. The request-size policy
 * also responds with the core's `PACTOWN_ERR_BODY_TOO_LARGE`.
 */
export const POLICY_ERROR_CODES = {
  PACTOWN_ERR_AUTH_MISSING: {
    status: 401,
    message: 'Request carries no credential for the route auth scheme',
  },
  PACTOWN_ERR_AUTH_INVALID: {
    status: 401,
    message: 'Credential is malformed, does not verify, or has an invalid claim',
  },
  PACTOWN_ERR_AUTH_EXPIRED: { status: 401, message: 'Token has expired' },
  PACTOWN_ERR_AUTH_FORBIDDEN: {
    status: 403,
    message: 'Credential is valid but not allowed on this route',
  },
  PACTOWN_ERR_AUTH_UNAVAILABLE: {
    status: 503,
    message: 'Signing keys could not be fetched, so the token cannot be verified',
  },
  PACTOWN_ERR_RATE_LIMITED: { status: 429, message: 'Client exceeded the route rate limit' },
  PACTOWN_ERR_RATE_LIMIT_UNAVAILABLE: {
    status: 503,
    message: 'Limiter store failed and the route denies requests it cannot count',
  },
  PACTOWN_ERR_IP_FORBIDDEN: { status: 403, message: 'Client address is not allowed on this route' },
  PACTOWN_ERR_LENGTH_REQUIRED: {
    status: 411,
    message: 'Request body needs a Content-Length header on this route',
  },
} as const;
