import type { JsonSchema } from '../../core/index.js';

/** GitHub adds no route keys; `secret:` may list several secrets to try during a rotation. */
export const githubOptionsSchema: JsonSchema = { type: 'object', properties: {} };
