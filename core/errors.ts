/**
 * The gateway's error registry. Each code has one HTTP status and one meaning, is never reused,
 * and has its fix documented in docs/errors.md.
 */
export const ERROR_CODES = {
  PACTOWN_ERR_ROUTE_NOT_FOUND: { status: 404, message: 'No route matches this path' },
  PACTOWN_ERR_METHOD_NOT_ALLOWED: { status: 405, message: 'Method not allowed on this route' },
  PACTOWN_ERR_PATH_TRAVERSAL: {
    status: 400,
    message: 'Path contains a dot segment that would leave the route prefix',
  },
  PACTOWN_ERR_BAD_REQUEST: { status: 400, message: 'Malformed request' },
  PACTOWN_ERR_BODY_TOO_LARGE: { status: 413, message: 'Request body exceeds the route body limit' },
  PACTOWN_ERR_HEADERS_TOO_LARGE: { status: 431, message: 'Request headers exceed the size limit' },
  PACTOWN_ERR_REQUEST_TIMEOUT: { status: 408, message: 'Request was not received in time' },
  PACTOWN_ERR_UNSUPPORTED_MEDIA_TYPE: { status: 415, message: 'Unsupported content type' },
  PACTOWN_ERR_UPSTREAM_TIMEOUT: { status: 504, message: 'Upstream did not respond in time' },
  PACTOWN_ERR_UPSTREAM_UNAVAILABLE: { status: 502, message: 'Upstream is unreachable or failed' },
  PACTOWN_ERR_SHUTTING_DOWN: { status: 503, message: 'Gateway is shutting down' },
  PACTOWN_ERR_INTERNAL: { status: 500, message: 'Internal gateway error' },
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

/** An error sent to the client as `{error, code, route}` with the code's status. */
export class GatewayError extends Error {
  readonly statusCode: number;

  constructor(
    readonly code: ErrorCode | string,
    message?: string,
    statusCode?: number,
    options?: ErrorOptions,
  ) {
    const known = ERROR_CODES[code as ErrorCode];
    super(message ?? known?.message ?? code, options);
    this.name = 'GatewayError';
    this.statusCode = statusCode ?? known?.status ?? 500;
  }
}

/** The JSON body of every error response the gateway itself produces. */
export interface ErrorBody {
  error: string;
  code: string;
  route?: string;
  [extra: string]: unknown;
}

/** Builds the JSON error body for `code`, naming the route when there is one. */
export function errorBody(
  code: string,
  message: string,
  route?: string,
  extra?: Record<string, unknown>,
): ErrorBody {
  const body: ErrorBody = { error: message, code };
  if (route !== undefined) {
    body.route = route;
  }
  return extra ? Object.assign(body, extra) : body;
}
