import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import {
  createServer,
  request as httpRequest,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import { type AddressInfo, connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
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

/** Starts an upstream. The default handler responds 200 with a JSON echo of the request. */
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

/** A response read whole, for assertions. */
export interface SimpleResponse {
  status: number;
  headers: IncomingMessage['headers'];
  body: string;
}

/**
 * Sends one request with node:http, path sent exactly as given (no normalisation of `..` or
 * percent escapes), and reads the whole response.
 */
export function rawRequest(
  baseUrl: string,
  options: {
    method?: string;
    path: string;
    headers?: Record<string, string | string[]>;
    body?: Buffer | string;
  },
): Promise<SimpleResponse> {
  const { hostname, port } = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const request = httpRequest(
      {
        host: hostname,
        port,
        method: options.method ?? 'GET',
        path: options.path,
        headers: options.headers,
        agent: false,
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () =>
          resolve({
            status: response.statusCode ?? 0,
            headers: response.headers,
            body: Buffer.concat(chunks).toString('utf8'),
          }),
        );
        response.on('error', reject);
      },
    );
    request.on('error', reject);
    request.setTimeout(20_000, () =>
      request.destroy(new Error(`request to ${options.path} timed out`)),
    );
    request.end(options.body);
  });
}

/** A `pactown start` child process and the URL it printed. */
export interface GatewayProcess {
  child: ChildProcess;
  url: string;
  /** Every log line the child wrote, parsed. */
  logs: Record<string, unknown>[];
  /** Resolves with the exit code once the child exits. */
  exited: Promise<number | null>;
}

export const CLI = fileURLToPath(new URL('../cli/index.js', import.meta.url));

/** Starts `pactown start --config FILE --port 0` and waits for its "gateway started" line. */
export async function spawnGateway(
  t: TestContext,
  configFile: string,
  env: NodeJS.ProcessEnv = {},
): Promise<GatewayProcess> {
  const child = spawn(
    process.execPath,
    [CLI, 'start', '--config', configFile, '--port', '0', '--host', '127.0.0.1'],
    {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const logs: Record<string, unknown>[] = [];
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => resolve(code)),
  );
  t.after(() => {
    if (child.exitCode === null) {
      child.kill('SIGKILL');
    }
  });
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`gateway did not start: ${JSON.stringify(logs)}`)),
      15_000,
    );
    createInterface({ input: child.stdout! }).on('line', (line) => {
      try {
        const entry = JSON.parse(line) as Record<string, unknown>;
        logs.push(entry);
        if (entry.msg === 'gateway started') {
          clearTimeout(timer);
          resolve(String(entry.url));
        }
      } catch {
        logs.push({ text: line });
      }
    });
    child.stderr!.on('data', (data: Buffer) => logs.push({ stderr: data.toString() }));
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`gateway exited with ${code}: ${JSON.stringify(logs)}`));
    });
  });
  return { child, url, logs, exited };
}

/**
 * Writes raw bytes to a server on 127.0.0.1 and returns its whole response as text, for requests
 * that an HTTP client would not send. `onText` sees the text received so far and may write more,
 * such as a body after `100 Continue`, and returns the text to keep.
 */
export function sendRawWhole(
  url: string,
  bytes: string,
  onText?: (text: string, socket: Socket) => string,
): Promise<string> {
  const { port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), '127.0.0.1', () => socket.write(bytes));
    let received = '';
    socket.on('data', (data) => {
      received += data.toString('latin1');
      if (onText) {
        received = onText(received, socket);
      }
    });
    socket.on('end', () => resolve(received));
    socket.on('close', () => resolve(received));
    socket.on('error', reject);
    socket.setTimeout(5000, () => socket.destroy(new Error('no response within 5 s')));
  });
}
