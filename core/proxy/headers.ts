import type { IncomingHttpHeaders } from 'node:http';
import type { FastifyRequest } from 'fastify';

/** Hop-by-hop headers (RFC 9110 section 7.6.1) and `Expect`, never forwarded in either direction. */
export const HOP_BY_HOP_HEADERS = [
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  // Node sends `100 Continue` to the client itself, and undici rejects the header.
  'expect',
];

/** Removes hop-by-hop headers and every header that `Connection` names. */
export function stripHopByHop<T extends Record<string, unknown>>(headers: T): T {
  const connection = headers.connection;
  if (typeof connection === 'string') {
    for (const name of connection.split(',')) {
      delete headers[name.trim().toLowerCase()];
    }
  }
  for (const name of HOP_BY_HOP_HEADERS) {
    delete headers[name];
  }
  return headers;
}

/**
 * Sets `X-Forwarded-For`, `-Proto`, `-Host` and `X-Real-IP`. A chain, a `Forwarded` header, or an
 * `X-Forwarded-Port` or `-Prefix` sent by the client is kept only when the client is a trusted
 * proxy, so an untrusted peer cannot forge an address or the path an upstream builds links from.
 */
export function setForwardedHeaders(request: FastifyRequest, headers: IncomingHttpHeaders): void {
  // The socket is gone when the client aborted while a policy was still running.
  const peer = request.raw.socket?.remoteAddress ?? '';
  const trusted = request.ips !== undefined && request.ips.length > 1;
  const chain = headers['x-forwarded-for'];
  headers['x-forwarded-for'] = trusted && chain ? `${chain}, ${peer}` : peer;
  headers['x-forwarded-proto'] = request.protocol;
  headers['x-real-ip'] = trusted ? request.ip : peer;
  // The client may send these itself, so they pass only from a trusted proxy.
  if (!trusted) {
    if (headers.forwarded !== undefined) {
      delete headers.forwarded;
    }
    if (headers['x-forwarded-port'] !== undefined) {
      delete headers['x-forwarded-port'];
    }
    if (headers['x-forwarded-prefix'] !== undefined) {
      delete headers['x-forwarded-prefix'];
    }
  }
  const host = request.headers.host;
  if (host !== undefined) {
    headers['x-forwarded-host'] =
      trusted && headers['x-forwarded-host'] ? headers['x-forwarded-host'] : host;
  }
}
