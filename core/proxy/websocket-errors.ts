/**
 * Error codes of WebSocket upgrades on proxy routes, in the same form as the core registry in
 * core/errors.ts. Each is documented with its fix in docs/configuration.md. Upstream failures
 * during the handshake reuse `PACTOWN_ERR_UPSTREAM_UNAVAILABLE` (502) and
 * `PACTOWN_ERR_UPSTREAM_TIMEOUT` (504).
 */
export const WEBSOCKET_ERROR_CODES = {
  PACTOWN_ERR_WEBSOCKET_HANDSHAKE: {
    status: 400,
    message: 'Upgrade request is not a valid WebSocket opening handshake',
  },
  PACTOWN_ERR_WEBSOCKET_NOT_ENABLED: {
    status: 400,
    message: 'Route does not accept WebSocket upgrades',
  },
  PACTOWN_ERR_WEBSOCKET_CONNECTION_LIMIT: {
    status: 503,
    message: 'Route already has ws_max_connections open WebSocket connections',
  },
} as const;
