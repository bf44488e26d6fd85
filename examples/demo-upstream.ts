import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * Starts a small JSON upstream that echoes what it received: method, path, query, headers and
 * the body size. Resolves with the server and its base URL.
 */
export async function startDemoUpstream(
  port = 0,
  host = '127.0.0.1',
): Promise<{ server: Server; url: string }> {
  const server = createServer((request, response) => {
    let bytes = 0;
    request.on('data', (chunk: Buffer) => {
      bytes += chunk.length;
    });
    request.on('end', () => {
      const url = new URL(request.url ?? '/', 'http://upstream');
      const body = JSON.stringify({
        upstream: 'demo',
        method: request.method,
        path: url.pathname,
        query: url.search,
        headers: request.headers,
        body_bytes: bytes,
        time: new Date().toISOString(),
      });
      response.writeHead(200, {
        'content-type': 'application/json',
        'cache-control': 'public, max-age=30',
      });
      response.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(port, host, resolve));
  const address = server.address() as AddressInfo;
  return { server, url: `http://${host}:${address.port}` };
}
