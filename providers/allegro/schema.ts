import type { JsonSchema } from '../../core/index.js';

/** The Allegro push form adds no route keys. */
export const allegroOptionsSchema: JsonSchema = { type: 'object', properties: {} };
