import { pipeline, type Readable, Transform, type TransformCallback } from 'node:stream';

/**
 * Passes `source` through unchanged while keeping a copy of up to `limit` bytes. At the end,
 * `onComplete` receives the whole body. If the body grew past `limit` or the stream failed,
 * `onAbandon` is called instead, and the client still receives every byte.
 */
export function captureStream(
  source: Readable,
  limit: number,
  onComplete: (body: Buffer) => void,
  onAbandon: () => void,
): Readable {
  const chunks: Buffer[] = [];
  let size = 0;
  let overLimit = false;
  let settled = false;
  const settle = (body?: Buffer) => {
    if (settled) {
      return;
    }
    settled = true;
    if (body) {
      onComplete(body);
    } else {
      onAbandon();
    }
  };
  const tee = new Transform({
    transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback) {
      if (!overLimit) {
        size += chunk.length;
        if (size > limit) {
          overLimit = true;
          chunks.length = 0;
        } else {
          chunks.push(chunk);
        }
      }
      done(null, chunk);
    },
    flush(done: TransformCallback) {
      settle(overLimit ? undefined : Buffer.concat(chunks, size));
      done();
    },
  });
  pipeline(source, tee, (error) => {
    if (error) {
      settle();
    }
  });
  return tee;
}
