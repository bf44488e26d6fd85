import type { JsonSchema } from '../../core/index.js';

/** The three InPost mechanisms a route can verify. */
export type InpostMode = 'shipx' | 'hmac' | 'legacy';

/** InPost's route keys. */
export interface InpostOptions {
  /** Default `legacy`, the original service's `sha256=<hex>` form. */
  mode?: InpostMode;
  /** shipx: addresses or CIDR ranges deliveries may come from; default 91.216.25.0/24. */
  allow?: string[];
  /** shipx: secret token expected as `?token=` or as the path segment after the route path. */
  token?: string;
  /** hmac: reject requests without `x-inpost-timestamp` (no replay protection without it). */
  require_timestamp?: boolean;
}

/** The mode of a route that sets no `mode:`. */
export const DEFAULT_INPOST_MODE: InpostMode = 'legacy';

/** InPost's published ShipX webhook source range (production and sandbox). */
export const INPOST_SHIPX_SOURCES = ['91.216.25.0/24'];

export const inpostOptionsSchema: JsonSchema = {
  type: 'object',
  properties: {
    mode: {
      enum: ['shipx', 'hmac', 'legacy'],
      description:
        'shipx (unsigned, allow-list and token), hmac (x-inpost-signature base64) or legacy',
    },
    allow: {
      type: 'array',
      minItems: 1,
      items: { type: 'string', minLength: 1 },
      'x-expected': 'a list of addresses or CIDR ranges, such as [91.216.25.0/24]',
    },
    token: { type: 'string', writeOnly: true },
    require_timestamp: { type: 'boolean' },
  },
};
