import type { Readable } from 'node:stream';
import type { FastifyReply, FastifyRequest } from 'fastify';
import {
  definePlugin,
  errorBody,
  limitBody,
  PLUGIN_API_VERSION,
  parseSize,
  sizeSchema,
} from '../../core/index.js';

/** Options of the `request-size` policy as written. */
interface RequestSizeOptions {
  max_body: number | string;
  require_content_length?: boolean;
}

/** A streamed request body grew past the limit. */
export class BodyTooLargeError extends Error {
  readonly code = 'PACTOWN_ERR_BODY_TOO_LARGE';
  readonly statusCode = 413;

  constructor(limit: number) {
    super(`request body exceeds ${limit} bytes`);
    this.name = 'BodyTooLargeError';
  }
}

/**
 * The `request-size` policy: rejects with 413 a request whose `Content-Length` exceeds `max_body`
 * before any byte is forwarded. A chunked body is counted while it streams to the upstream, and
 * the upstream request is aborted once it passes the limit. With `require_content_length`, a
 * body without `Content-Length` gets 411 instead.
 *
 * @example
 * ```yaml
 * plugins:
 *   - request-size: { max_body: 256kb, require_content_length: true }
 * ```
 */
export default definePlugin({
  name: 'request-size',
  kind: 'policy',
  apiVersion: PLUGIN_API_VERSION,
  description: 'limits the request body size, by Content-Length and while streaming',
  optionsSchema: {
    type: 'object',
    additionalProperties: false,
    required: ['max_body'],
    properties: {
      max_body: sizeSchema,
      require_content_length: { type: 'boolean' },
    },
  },
  register(scope, options: RequestSizeOptions, context) {
    const limit = parseSize(options.max_body);
    const requireLength = options.require_content_length ?? false;
    const route = context.route.path;
    scope.addHook('onRequest', async (request: FastifyRequest, reply: FastifyReply) => {
      const declared = request.headers['content-length'];
      if (declared !== undefined) {
        if (Number(declared) > limit) {
          return reply
            .code(413)
            .header('connection', 'close')
            .send(
              errorBody('PACTOWN_ERR_BODY_TOO_LARGE', `request body exceeds ${limit} bytes`, route),
            );
        }
        return;
      }
      if (requireLength && request.headers['transfer-encoding'] !== undefined) {
        return reply
          .code(411)
          .send(
            errorBody(
              'PACTOWN_ERR_LENGTH_REQUIRED',
              'a request body needs a Content-Length header on this route',
              route,
            ),
          );
      }
    });
    scope.addHook('preHandler', async (request: FastifyRequest) => {
      const body = request.body as NodeJS.ReadableStream | Buffer | undefined;
      if (Buffer.isBuffer(body) && body.length > limit) {
        throw new BodyTooLargeError(limit);
      }
      const streamed = body && typeof (body as NodeJS.ReadableStream).pipe === 'function';
      if (streamed && request.headers['content-length'] === undefined) {
        request.body = limitBody(body as Readable, limit);
      }
    });
  },
});
