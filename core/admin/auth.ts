import { createHash } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { constantTimeEqual } from '../crypto.js';
import { errorBody } from '../errors.js';

/** Minimum milliseconds between two warnings about rejected admin requests. */
const WARN_INTERVAL_MS = 60_000;

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

/**
 * Builds an `onRequest` hook that rejects requests without `Authorization: Bearer <token>`
 * with a 401. Digests of equal length are compared in constant time, so the comparison time
 * does not reveal the token's length or a matching prefix.
 */
export function bearerTokenCheck(token: string) {
  const expected = digest(token);
  let lastWarning = 0;
  let suppressed = 0;
  return async (request: FastifyRequest, reply: FastifyReply) => {
    const header = request.headers.authorization ?? '';
    const match = /^Bearer\s+(.+)$/i.exec(header);
    if (match && constantTimeEqual(digest(match[1].trim()), expected)) {
      return;
    }
    const now = Date.now();
    if (now - lastWarning >= WARN_INTERVAL_MS) {
      request.log.warn(
        { ip: request.ip, url: request.url, suppressed },
        'rejected an admin request without a valid token',
      );
      lastWarning = now;
      suppressed = 0;
    } else {
      suppressed += 1;
    }
    return reply
      .code(401)
      .header('www-authenticate', 'Bearer realm="pactown-admin"')
      .send(
        errorBody(
          'PACTOWN_ERR_ADMIN_UNAUTHORIZED',
          'missing or wrong admin token; send Authorization: Bearer <admin.token>',
          '/admin',
        ),
      );
  };
}
