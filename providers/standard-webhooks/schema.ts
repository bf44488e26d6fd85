import type { JsonSchema } from '../../core/index.js';

/** Standard Webhooks adds no route keys: `secret:` is the `whsec_<base64>` value. */
export const standardWebhooksOptionsSchema: JsonSchema = { type: 'object', properties: {} };
