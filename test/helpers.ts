import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { builtinLoadOptions } from '../cli/builtins.js';
import { createGateway, type Gateway, type LoadedConfig, loadConfig } from '../core/index.js';

/** A request as the test upstream received it. */
export interface RecordedRequest {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: Buffer;
}

/** A node:http server on 127.0.0.1 and a free port, recording every request it receives. */
export interface TestUpstream {
  server: Server;
  url: string;
  requests: RecordedRequest[];
  close(): Promise<void>;
}

type Handler = (request: RecordedRequest, response: ServerResponse) => void | Promise<void>;

/** Starts an upstream; the default handler answers 200 with a JSON echo of the request. */
export async function startUpstream(
  handler?: Handler,
  options: { buffer?: boolean } = {},
): Promise<TestUpstream> {
  const requests: RecordedRequest[] = [];
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (options.buffer !== false) {
        chunks.push(chunk);
      }
    });
    request.on('end', async () => {
      const recorded: RecordedRequest = {
        method: request.method ?? '',
        url: request.url ?? '',
        headers: request.headers,
        body: options.buffer === false ? Buffer.alloc(0) : Buffer.concat(chunks),
      };
      requests.push(recorded);
      if (handler) {
        await handler(recorded, response);
        return;
      }
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(
        JSON.stringify({
          method: recorded.method,
          url: recorded.url,
          headers: recorded.headers,
          size,
          body: recorded.body.toString('utf8'),
        }),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    server,
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Writes `text` to a fresh temporary folder and returns the file path. */
export function writeConfig(text: string, name = 'gateway.yaml', dir?: string): string {
  const folder = dir ?? mkdtempSync(join(tmpdir(), 'pactown-test-'));
  const file = join(folder, name);
  writeFileSync(file, text);
  return file;
}

/** Loads a config text with the built-in plugins. */
export async function loadTestConfig(
  text: string,
  env: NodeJS.ProcessEnv = {},
): Promise<LoadedConfig> {
  return loadConfig(writeConfig(text), builtinLoadOptions({ ...env }));
}

/** A gateway listening on 127.0.0.1 and a free port, closed when the test ends. */
export interface RunningGateway {
  gateway: Gateway;
  url: string;
}

/** Starts a gateway for `text` on port 0; closes it after the test. */
export async function startGatewayFor(
  t: TestContext,
  text: string,
  env: NodeJS.ProcessEnv = {},
): Promise<RunningGateway> {
  const loaded = await loadTestConfig(text, env);
  const gateway = await createGateway(loaded, { logger: false, env });
  const url = await gateway.listen(0, '127.0.0.1');
  t.after(() => gateway.close());
  return { gateway, url };
}

/**
 * Returns the Redis URL for tests, or skips the test with a message when none is set. With
 * PACTOWN_REQUIRE_REDIS=1 (as .ci/run sets it) a missing Redis fails the test instead.
 */
export function redisUrlOrSkip(t: TestContext): string | undefined {
  const url = process.env.REDIS_URL;
  if (url) {
    return url;
  }
  if (process.env.PACTOWN_REQUIRE_REDIS === '1') {
    throw new Error(
      'REDIS_URL is not set but PACTOWN_REQUIRE_REDIS=1 requires Redis for this test',
    );
  }
  t.skip(
    'REDIS_URL is not set; start Redis and set REDIS_URL=redis://127.0.0.1:6379 to run this test',
  );
  return undefined;
}
