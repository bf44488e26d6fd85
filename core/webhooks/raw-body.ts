import type { FastifyInstance } from 'fastify';

/**
 * Replaces the parsers of `scope` with one that reads every content type (and a body without
 * one) as a Buffer of the exact bytes received, so signatures are checked over those bytes.
 * Fastify rejects the request with 413 as soon as `Content-Length` or the bytes streamed so far pass `limit`, and
 * stops collecting the body at that point.
 */
export function useRawBodyParser(scope: FastifyInstance, limit: number): void {
  scope.removeAllContentTypeParsers();
  scope.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: limit }, (_request, body, done) =>
    done(null, body),
  );
}
