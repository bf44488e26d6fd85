import type { IncomingMessage, Server, ServerResponse } from 'node:http';

/**
 * Makes `server` send `100 Continue` to an `Expect: 100-continue` request only once the gateway
 * reads its body. Node's default sends it as soon as the headers arrive, so a client uploads a
 * body that a 413, 401 or 404 then rejects unread. A response sent without reading the body
 * closes the connection, because the client may or may not still send the body it announced.
 */
export function continueWhenBodyIsRead(server: Server): void {
  server.on('checkContinue', (request: IncomingMessage, response: ServerResponse) => {
    const keepAlive = response.shouldKeepAlive;
    response.shouldKeepAlive = false;
    const read = request._read;
    // Readable calls _read when a consumer first wants data: a parser, a pipe or a dump.
    request._read = function readAfterContinue(this: IncomingMessage, size: number) {
      request._read = read;
      if (!response.headersSent && !response.writableEnded) {
        response.shouldKeepAlive = keepAlive;
        response.writeContinue();
      }
      return read.call(this, size);
    };
    server.emit('request', request, response);
  });
}
