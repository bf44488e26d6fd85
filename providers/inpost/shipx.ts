import { createHash } from 'node:crypto';
import {
  constantTimeEqual,
  readJsonFields,
  reject,
  type WebhookRequest,
  type WebhookVerification,
} from '../../core/index.js';

/** Checks of a shipx route: the source address and, when configured, the URL token. */
export interface ShipxCheck {
  isAllowed(ip: string): boolean;
  token?: string;
  /** The route path, after which a path token follows. */
  routePath: string;
}

function sha256(value: string | Buffer): Buffer {
  return createHash('sha256').update(value).digest();
}

/**
 * Finds the token of a request: the path segment after the route path, else the `token` query
 * parameter. Returns `null` when it is malformed (sent twice, several segments, bad escapes).
 */
export function requestToken(
  request: WebhookRequest,
  routePath: string,
): string | undefined | null {
  const path = request.url.split('?')[0];
  const base = routePath.replace(/\/+$/, '');
  if (path.length > base.length + 1) {
    const segment = path.slice(base.length + 1);
    if (segment.includes('/')) {
      return null;
    }
    try {
      return decodeURIComponent(segment);
    } catch {
      return null;
    }
  }
  const query = request.query.token;
  if (query === undefined) {
    return undefined;
  }
  return typeof query === 'string' ? query : null;
}

function checkToken(request: WebhookRequest, check: ShipxCheck): WebhookVerification | undefined {
  if (check.token === undefined) {
    return undefined;
  }
  const code = 'PACTOWN_ERR_WEBHOOK_TOKEN';
  const token = requestToken(request, check.routePath);
  if (token === undefined) {
    return reject('token_missing', 'the webhook URL carries no token', { code });
  }
  // Hashing first gives equal lengths, so the comparison does not reveal the token length.
  if (token === null || !constantTimeEqual(sha256(token), sha256(check.token))) {
    return reject('token_mismatch', 'the webhook URL token does not match', { code });
  }
  return undefined;
}

/**
 * Verifies a ShipX webhook, which carries no signature: the client address (after the
 * trusted-proxy rules) must be in the allow-list, and the URL token must match when one is set.
 * ShipX sends no event id, so the SHA-256 of the body is the de-duplication key: a resent
 * status change has the same bytes, including its `event_ts`.
 */
export function verifyShipx(request: WebhookRequest, check: ShipxCheck): WebhookVerification {
  if (!check.isAllowed(request.ip)) {
    return reject('source_not_allowed', `source address ${request.ip} is not in the allow-list`, {
      code: 'PACTOWN_ERR_WEBHOOK_SOURCE',
    });
  }
  const tokenProblem = checkToken(request, check);
  if (tokenProblem) {
    return tokenProblem;
  }
  return {
    ok: true,
    eventId: `sha256:${sha256(request.body).toString('hex')}`,
    eventType: readJsonFields(request.body, 'event').event,
  };
}
