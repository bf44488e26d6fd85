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
  /**
   * hmac: the string InPost signs for this client, `<x-inpost-timestamp>.<body>` (the default)
   * or the raw body. InPost sets it per client, so a request cannot choose it.
   */
  signed?: InpostSignedString;
  /** hmac: the older name of `signed`; true means `timestamp_body`, false means `body`. */
  require_timestamp?: boolean;
}

/** The string an InPost Group API signature covers. */
export type InpostSignedString = 'timestamp_body' | 'body';

/** Returns the signed string of an hmac route: `signed`, else `require_timestamp`, else `timestamp_body`. */
export function signedStringOf(options: InpostOptions): InpostSignedString {
  if (options.signed) {
    return options.signed;
  }
  return options.require_timestamp === false ? 'body' : 'timestamp_body';
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
    signed: {
      enum: ['timestamp_body', 'body'],
      description: 'hmac: timestamp_body signs <x-inpost-timestamp>.<body>; body signs the body',
    },
    require_timestamp: { type: 'boolean' },
  },
};
