import { createHmac } from 'node:crypto';

/** Header that carries the delivery id, the same on every attempt of one delivery. */
export const DELIVERY_ID_HEADER = 'x-pactown-delivery-id';
/** Header that carries the gateway's signature of the body. */
export const SIGNATURE_HEADER = 'x-pactown-signature';

/**
 * Signs a body for the target: `sha256=<lower-case hex HMAC-SHA256 of the exact body bytes>`,
 * keyed with the UTF-8 bytes of `secret`.
 *
 * @example
 * ```ts
 * signBody('s3cret', Buffer.from('{"id":1}')); // 'sha256=…'
 * ```
 */
export function signBody(secret: string, body: Buffer): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}
