import { maxHeaderSize, STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { ERROR_CODES, errorBody } from '../errors.js';

/** Error codes of Node's HTTP parser, with the request fault each one reports. */
const PARSER_REASONS: Record<string, string> = {
  // llhttp reports each framing conflict under one of these codes, by the header order.
  HPE_UNEXPECTED_CONTENT_LENGTH:
    'conflicting framing headers: Content-Length repeated or sent with Transfer-Encoding',
  HPE_INVALID_CONTENT_LENGTH:
    'invalid Content-Length, or Content-Length repeated or sent with Transfer-Encoding',
  HPE_INVALID_TRANSFER_ENCODING:
    'invalid Transfer-Encoding, or Transfer-Encoding sent with Content-Length',
  HPE_INVALID_CHUNK_SIZE: 'invalid chunk size in a chunked body',
  HPE_INVALID_HEADER_TOKEN: 'invalid character in a header',
  HPE_INVALID_METHOD: 'invalid method',
  HPE_INVALID_URL: 'invalid request target',
  HPE_INVALID_VERSION: 'invalid HTTP version',
  HPE_INVALID_CONSTANT: 'malformed request line',
  HPE_LF_EXPECTED: 'malformed line ending',
  HPE_CR_EXPECTED: 'malformed line ending',
};

/**
 * Responds to a request that Node's HTTP parser rejected, before it reaches Fastify, with the
 * gateway's JSON error shape, and logs it once at warn. Fastify's default responds
 * `{"message":"Client Error"}` without a code and logs at trace only.
 */
export function handleClientError(
  this: FastifyInstance,
  error: Error & { code?: string },
  socket: Socket,
): void {
  // A reset connection cannot receive a response.
  if (error.code === 'ECONNRESET' || socket.destroyed) {
    return;
  }
  let code: keyof typeof ERROR_CODES = 'PACTOWN_ERR_BAD_REQUEST';
  let reason =
    PARSER_REASONS[error.code ?? ''] ?? `malformed HTTP request (${error.code ?? 'unknown'})`;
  if (error.code === 'ERR_HTTP_REQUEST_TIMEOUT') {
    code = 'PACTOWN_ERR_REQUEST_TIMEOUT';
    reason = 'the request was not received within server.request_timeout';
  } else if (error.code === 'HPE_HEADER_OVERFLOW') {
    code = 'PACTOWN_ERR_HEADERS_TOO_LARGE';
    reason = `request headers exceed ${maxHeaderSize / 1024} KiB`;
  }
  this.log.warn(
    { code, reason: error.code, remote: socket.remoteAddress },
    'rejected a malformed request',
  );
  if (socket.writable) {
    const status = ERROR_CODES[code].status;
    const body = JSON.stringify(errorBody(code, reason));
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nContent-Type: application/json; charset=utf-8\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy(error);
}

/**
 * Responds 405 to a `CONNECT` request, which requests a tunnel that the gateway does not open.
 * Without a `connect` listener, Node closes such a socket without a response.
 */
export function rejectConnect(
  this: FastifyInstance,
  request: { url?: string },
  socket: Socket,
): void {
  this.log.warn(
    { target: request.url, remote: socket.remoteAddress },
    'rejected a CONNECT request',
  );
  const body = JSON.stringify(
    errorBody('PACTOWN_ERR_METHOD_NOT_ALLOWED', 'the gateway opens no CONNECT tunnels'),
  );
  socket.end(
    `HTTP/1.1 405 ${STATUS_CODES[405]}\r\nAllow: GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS\r\nContent-Length: ${Buffer.byteLength(body)}\r\nContent-Type: application/json; charset=utf-8\r\nConnection: close\r\n\r\n${body}`,
  );
}
