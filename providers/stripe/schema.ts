import type { JsonSchema } from '../../core/index.js';

/** Stripe adds no route keys: `secret:` (the whole `whsec_...` value) and `tolerance:` suffice. */
export const stripeOptionsSchema: JsonSchema = { type: 'object', properties: {} };
