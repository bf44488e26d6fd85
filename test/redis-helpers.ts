import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, type TestContext, test } from 'node:test';
import { Redis } from 'ioredis';
import {
  acquireRedis,
  deleteKeysWithPrefix,
  type RedisLease,
  type RedisSettings,
  redisSettingsFromOptions,
} from '../core/stores/redis-connection.js';
import { silentLog } from './delivery-helpers.js';
import { redisUrlOrSkip } from './helpers.js';

/** Settings of every prefix a test of this file used, deleted again once the file's tests end. */
const usedPrefixes = new Set<RedisSettings>();

// A gateway or child process may still write a heartbeat or a cursor while it closes, after the
// test's own cleanup ran (node:test runs `t.after` hooks in the order they were added).
after(async () => {
  for (const settings of usedPrefixes) {
    await flushPrefix(settings);
  }
});

/** Returns a key prefix of its own for one test, so tests sharing a Redis never meet. */
export function uniquePrefix(name = 'test'): string {
  return `pactown-test:${name}:${randomUUID().slice(0, 8)}:`;
}

/**
 * Returns settings for the test Redis under a fresh key prefix, deleting the prefix's keys after
 * the test; undefined (the test skipped) without REDIS_URL.
 */
export function redisForTest(
  t: TestContext,
  options: Record<string, unknown> = {},
): RedisSettings | undefined {
  const url = redisUrlOrSkip(t);
  if (!url) {
    return undefined;
  }
  const settings = redisSettingsFromOptions({ url, key_prefix: uniquePrefix(), ...options });
  usedPrefixes.add(settings);
  t.after(() => flushPrefix(settings));
  return settings;
}

/** Deletes every key under the settings' prefix with a client of its own. */
export async function flushPrefix(settings: RedisSettings): Promise<void> {
  const client = new Redis(settings.url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  client.on('error', () => {});
  try {
    await client.connect();
    await deleteKeysWithPrefix(client, settings.keyPrefix);
  } catch {
    // A Redis the test stopped has nothing left to delete.
  } finally {
    client.disconnect();
  }
}

/** Acquires a lease of the shared client with a silent log. */
export function leaseFor(settings: RedisSettings): RedisLease {
  return acquireRedis(settings, silentLog);
}

/** Returns a free TCP port on 127.0.0.1, found by binding port 0. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** A redis-server child process that the test can stop and start again on the same port. */
export interface OwnRedis {
  url: string;
  port: number;
  /** Folder of its append-only file when started with persistence. */
  dir: string;
  start(): Promise<void>;
  /** Kills the server with SIGKILL, as a crash would. */
  kill(): Promise<void>;
}

/**
 * Starts a redis-server of the test's own on a free port, killed after the test. With
 * `persistent`, every write is appended and fsynced before the reply (`appendfsync always`), so
 * a SIGKILL loses nothing acknowledged. With `password`, clients must authenticate with it.
 */
export async function startOwnRedis(
  t: TestContext,
  options: { persistent?: boolean; password?: string } = {},
): Promise<OwnRedis> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'pactown-redis-'));
  let child: ChildProcess | undefined;
  const persistence = options.persistent
    ? ['--appendonly', 'yes', '--appendfsync', 'always', '--save', '']
    : ['--appendonly', 'no', '--save', ''];
  const start = async () => {
    child = spawn(
      'redis-server',
      [
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--dir',
        dir,
        ...persistence,
        ...(options.password ? ['--requirepass', options.password] : []),
      ],
      { stdio: 'ignore' },
    );
    await waitForPing(port, options.password);
  };
  const kill = async () => {
    const server = child;
    child = undefined;
    if (server && server.exitCode === null) {
      const exited = new Promise((resolve) => server.once('exit', resolve));
      server.kill('SIGKILL');
      await exited;
    }
  };
  t.after(async () => {
    await kill();
    rmSync(dir, { recursive: true, force: true });
  });
  await start();
  return { url: `redis://127.0.0.1:${port}`, port, dir, start, kill };
}

async function waitForPing(port: number, password?: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const client = new Redis(port, '127.0.0.1', {
      password,
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    client.on('error', () => {});
    try {
      await client.connect();
      if ((await client.ping()) === 'PONG') {
        return;
      }
    } catch {
      if (Date.now() > deadline) {
        throw new Error(`redis-server did not answer on port ${port} within 10 s`);
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    } finally {
      client.disconnect();
    }
  }
}

/**
 * Returns the test Redis URL for files that register whole suites at load time. Without one it
 * registers a single test that skips, or fails when PACTOWN_REQUIRE_REDIS=1.
 */
export function redisUrlForSuites(what: string): string | undefined {
  const url = process.env.REDIS_URL;
  if (!url) {
    test(`${what} on redis`, (t) => {
      redisUrlOrSkip(t);
    });
  }
  return url;
}

/** Settings under a fresh key prefix for one store of a suite run. */
export function suiteSettings(url: string, name: string): RedisSettings {
  return redisSettingsFromOptions({ url, key_prefix: uniquePrefix(name) });
}
