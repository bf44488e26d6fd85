import type { IncomingMessage } from 'node:http';
import { type Readable, Transform, type TransformCallback } from 'node:stream';
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
      request.body = limitBody(body as Readable, limit);
    }
  };
}

/**
 * Returns `body` passed through a counter that fails with `PACTOWN_ERR_BODY_TOO_LARGE` (status
 * 413) once more than `limit` bytes went by, which aborts the upstream request reading it. The
 * client's socket stays open, so the gateway can still send the 413.
 */
export function limitBody(body: Readable, limit: number): Readable {
  const limited = new LimitStream(limit);
  // undici gets the error from the stream it reads. This listener keeps an error raised before it
  // starts reading from becoming an uncaught exception.
  limited.on('error', () => {});
  body.on('error', (error) => limited.destroy(error));
  body.on('close', () => {
    if (!(body as IncomingMessage).complete) {
      limited.destroy(new Error('client aborted the request body'));
    }
  });
  // pipe, not pipeline: pipeline would destroy the client's request, and its socket with it.
  body.pipe(limited);
  return limited;
}

class LimitStream extends Transform {
  private seen = 0;

  constructor(private readonly limit: number) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    this.seen += chunk.length;
    if (this.seen > this.limit) {
      done(
        Object.assign(new Error(`request body exceeds ${this.limit} bytes`), {
          code: 'PACTOWN_ERR_BODY_TOO_LARGE',
          statusCode: 413,
        }),
      );
      return;
    }
    done(null, chunk);
  }
}
