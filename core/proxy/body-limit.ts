import { Transform, type TransformCallback } from 'node:stream';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { errorBody } from '../errors.js';

/**
 * Rejects request bodies over `limit` bytes on a proxy route: at once from `Content-Length`, or
 * while streaming a chunked body, which then aborts the upstream request.
 */
export function enforceBodyLimit(limit: number, route: string) {
  return async (request: FastifyRequest, reply: FastifyReply) => {
    const declared = Number(request.headers['content-length'] ?? 0);
    if (declared > limit) {
      request.log.warn({ route, declared, limit }, 'rejected a body over the route limit');
      return reply
        .code(413)
        .header('connection', 'close')
        .send(
          errorBody('PACTOWN_ERR_BODY_TOO_LARGE', `request body exceeds ${limit} bytes`, route),
        );
    }
    const body = request.body as NodeJS.ReadableStream | undefined;
    if (
      body &&
      typeof body.pipe === 'function' &&
      request.headers['content-length'] === undefined
    ) {
      request.body = body.pipe(new LimitStream(limit));
    }
  };
}

class LimitStream extends Transform {
  private seen = 0;

  constructor(private readonly limit: number) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    this.seen += chunk.length;
    if (this.seen > this.limit) {
      done(new Error(`request body exceeds ${this.limit} bytes`));
      return;
    }
    done(null, chunk);
  }
}
