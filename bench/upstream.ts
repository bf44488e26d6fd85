import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** The JSON body that the benchmark upstream returns for every request. */
export const UPSTREAM_BODY = Buffer.from(
  JSON.stringify({ id: 42, name: 'widget', tags: ['bench', 'json'], price: 9.5, stock: 128 }),
);

/**
 * Starts the benchmark upstream: a minimal node:http server that reads and discards the request
 * body and responds 200 with a fixed JSON body. `Cache-Control` lets a caching policy store the
 * response; the other contenders ignore it. It also serves as the webhook sink.
 */
export async function startBenchUpstream(port = 0): Promise<{ server: Server; url: string }> {
  const headers = {
    'content-type': 'application/json',
    'content-length': String(UPSTREAM_BODY.length),
    'cache-control': 'public, max-age=60',
  };
  const server = createServer((request, response) => {
    request.resume();
    request.on('end', () => {
      response.writeHead(200, headers);
      response.end(UPSTREAM_BODY);
    });
  });
  // Pools in front of it keep connections for 60 s; the upstream must not close them first.
  server.keepAliveTimeout = 120_000;
  server.headersTimeout = 121_000;
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const address = server.address() as AddressInfo;
  return { server, url: `http://127.0.0.1:${address.port}` };
}
