import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createServer, Socket } from 'node:net';
import { join } from 'node:path';
import type { ServerProcess, StartFailure } from './processes.js';
import { stopChild } from './processes.js';

const NGINX_CANDIDATES = ['nginx', '/usr/sbin/nginx', '/usr/local/sbin/nginx'];

/** Returns the nginx binary and its version line, or null when nginx is not installed. */
export function findNginx(): { path: string; version: string } | null {
  for (const candidate of NGINX_CANDIDATES) {
    // `nginx -v` prints "nginx version: nginx/1.22.1" on stderr.
    const probe = spawnSync(candidate, ['-v'], { encoding: 'utf8' });
    const output = `${probe.stderr ?? ''}${probe.stdout ?? ''}`;
    if (!probe.error && output.includes('nginx version')) {
      return { path: candidate, version: output.trim().replace(/^nginx version:\s*/, '') };
    }
  }
  return null;
}

/**
 * Writes an nginx config that proxies `/api/` to the upstream over a keep-alive pool, in the
 * shape of nginx's documented upstream keepalive set-up, with one worker process so that it
 * uses one core like the Node contenders.
 */
export function nginxConfig(dir: string, port: number, upstreamUrl: string): string {
  const upstream = new URL(upstreamUrl);
  return `worker_processes 1;
daemon off;
pid ${join(dir, 'nginx.pid')};
error_log ${join(dir, 'error.log')} warn;
events {
  worker_connections 4096;
}
http {
  access_log off;
  client_body_temp_path ${join(dir, 'body')};
  proxy_temp_path ${join(dir, 'proxy')};
  fastcgi_temp_path ${join(dir, 'fastcgi')};
  uwsgi_temp_path ${join(dir, 'uwsgi')};
  scgi_temp_path ${join(dir, 'scgi')};
  keepalive_requests 1000000;
  upstream bench_upstream {
    server ${upstream.host};
    keepalive 128;
    keepalive_requests 1000000;
  }
  server {
    listen 127.0.0.1:${port};
    location /api/ {
      proxy_pass http://bench_upstream/;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $proxy_host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto $scheme;
      proxy_set_header X-Forwarded-Host $host;
    }
  }
}
`;
}

/** Starts nginx in the foreground with a config in `dir`; the caller skips it when null. */
export async function startNginx(
  dir: string,
  upstreamUrl: string,
): Promise<ServerProcess | StartFailure> {
  const nginx = findNginx();
  if (!nginx) {
    return { reason: 'nginx is not installed (apt-get install nginx-light adds it)' };
  }
  const port = await freePort();
  const file = join(dir, 'nginx.conf');
  writeFileSync(file, nginxConfig(dir, port, upstreamUrl));
  const spawned = performance.now();
  const child = spawn(nginx.path, ['-p', dir, '-c', file], { stdio: ['ignore', 'ignore', 'pipe'] });
  const stderr: string[] = [];
  child.stderr?.setEncoding('utf8').on('data', (text: string) => {
    stderr.push(text);
  });
  const listening = await waitForPort(port, child, 10_000);
  if (!listening) {
    await stopChild(child);
    return { reason: `nginx did not start: ${stderr.join('').trim().slice(-1000)}` };
  }
  const readyMs = performance.now() - spawned;
  return {
    url: `http://127.0.0.1:${port}`,
    pid: child.pid!,
    readyMs,
    spawnToReadyMs: readyMs,
    stop: () => stopChild(child),
  };
}

/** Picks a free TCP port on 127.0.0.1 by binding port 0 and releasing it. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

async function waitForPort(port: number, child: ChildProcess, timeoutMs: number) {
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    if (child.exitCode !== null) {
      return false;
    }
    if (await canConnect(port)) {
      return true;
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return false;
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = new Socket();
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
    socket.connect(port, '127.0.0.1');
  });
}
