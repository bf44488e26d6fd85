import { randomUUID } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { definePlugin, type JsonSchema, PLUGIN_API_VERSION } from '../../core/index.js';
import { HEADER_NAME_PATTERN } from '../shared/headers.js';

/** Options of the `request-id` policy as written. */
interface RequestIdOptions {
  header?: string;
  trust_incoming?: boolean;
  response_header?: boolean;
}

/** An incoming id is kept only if it is this safe to log and forward. */
const VALID_ID = /^[A-Za-z0-9._:@+=/-]{1,128}$/;

const optionsSchema: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    header: { type: 'string', pattern: HEADER_NAME_PATTERN },
    trust_incoming: { type: 'boolean' },
    response_header: { type: 'boolean' },
  },
};

/**
 * The `request-id` policy: gives every request an id in `X-Request-Id` (or the configured
 * header), forwarded to the upstream, echoed on the response and bound to the request's log
 * lines as `request_id`. A valid incoming id is kept unless `trust_incoming` is false; otherwise
 * a random UUID is generated. Put it first (in `global_plugins:`) so that responses sent by
 * later policies, cache hits among them, carry the id too.
 *
 * @example
 * ```yaml
 * global_plugins:
 *   - request-id: { header: x-correlation-id }
 * ```
 */
export default definePlugin({
  name: 'request-id',
  kind: 'policy',
  apiVersion: PLUGIN_API_VERSION,
  description: 'forwards and echoes a request id, generating one when absent or invalid',
  optionsSchema,
  register(scope, options: RequestIdOptions) {
    const header = (options.header ?? 'x-request-id').toLowerCase();
    const trustIncoming = options.trust_incoming ?? true;
    const echo = options.response_header ?? true;
    scope.addHook('onRequest', async (request: FastifyRequest, reply: FastifyReply) => {
      const incoming = request.headers[header];
      let id: string;
      if (trustIncoming && typeof incoming === 'string' && VALID_ID.test(incoming)) {
        id = incoming;
      } else {
        id = randomUUID();
        request.headers[header] = id;
      }
      if (id !== request.id) {
        request.log = request.log.child({ request_id: id });
      }
      if (echo) {
        reply.header(header, id);
      }
    });
  },
});
