import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { getHeapStatistics } from 'node:v8';
import httpProxy from '@fastify/http-proxy';
import fastGateway from 'fast-gateway';
import Fastify from 'fastify';
import { builtinLoadOptions } from '../cli/builtins.js';
import { ConfigError, createGateway, loadConfig } from '../core/index.js';
import { startBenchUpstream } from './upstream.js';

/**
 * The server that one benchmark child process runs. The harness starts every contender in its own
 * process, so that memory and CPU figures belong to that contender alone.
 */
export type ServeSpec =
  | { kind: 'upstream' }
  | { kind: 'gateway'; config: string }
  | { kind: 'fastify-http-proxy'; upstream: string; prefix: string }
  | { kind: 'fast-gateway'; upstream: string; prefix: string };

/** The line a child prints on stdout once it listens, or when it cannot start. */
export type ServeMessage =
  | { ready: { url: string; readyMs: number; heapLimitBytes: number } }
  | { skip: string }
  | { error: string };

type Stop = () => Promise<void>;

async function serve(spec: ServeSpec): Promise<{ url: string; stop: Stop }> {
  switch (spec.kind) {
    case 'upstream': {
      const { server, url } = await startBenchUpstream();
      return { url, stop: () => closeServer(server) };
    }
    case 'gateway': {
      const loaded = await loadConfig(spec.config, builtinLoadOptions(process.env));
      const gateway = await createGateway(loaded, { logger: false });
      const url = await gateway.listen(0, '127.0.0.1');
      return { url, stop: () => gateway.close() };
    }
    case 'fastify-http-proxy': {
      const app = Fastify({ logger: false });
      await app.register(httpProxy, { upstream: spec.upstream, prefix: spec.prefix });
      const url = await app.listen({ port: 0, host: '127.0.0.1' });
      return { url, stop: () => app.close() };
    }
    case 'fast-gateway': {
      const app = fastGateway({ routes: [{ prefix: spec.prefix, target: spec.upstream }] });
      const server = (await app.start(0, '127.0.0.1')) as Server;
      const { port } = server.address() as AddressInfo;
      return { url: `http://127.0.0.1:${port}`, stop: () => closeServer(server) };
    }
  }
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  });
}

function send(message: ServeMessage): void {
  process.stdout.write(`${JSON.stringify(message)}\n`);
}

async function main(): Promise<void> {
  const spec = JSON.parse(process.argv[2] ?? '{}') as ServeSpec;
  const started = performance.now();
  let running: { url: string; stop: Stop };
  try {
    running = await serve(spec);
  } catch (error) {
    if (error instanceof ConfigError) {
      send({ skip: error.message });
    } else {
      send({ error: (error as Error).stack ?? String(error) });
    }
    process.exit(0);
  }
  send({
    ready: {
      url: running.url,
      readyMs: performance.now() - started,
      heapLimitBytes: getHeapStatistics().heap_size_limit,
    },
  });
  const stop = () => {
    running.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  // The harness closes stdin when it exits, so a child never outlives a crashed harness.
  process.stdin.resume();
  process.stdin.once('end', stop);
}

await main();
