import assert from 'node:assert/strict';
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { it, type TestContext } from 'node:test';
import { startGatewayFor, startUpstream } from './helpers.js';

const UPLOAD_BYTES = 50 * 1024 * 1024;
const CHUNK = Buffer.alloc(64 * 1024, 0x61);

/** Creates a readable stream of `total` bytes from one reused chunk, so the test keeps no copy. */
function generatedBody(total: number, progress: { sent: number }): Readable {
  return new Readable({
    read() {
      if (progress.sent >= total) {
        this.push(null);
        return;
      }
      const size = Math.min(CHUNK.length, total - progress.sent);
      progress.sent += size;
      this.push(size === CHUNK.length ? CHUNK : CHUNK.subarray(0, size));
    },
  });
}

/** Starts an upstream that counts body bytes and records how much the client had sent at the first. */
async function startCountingUpstream(t: TestContext, progress: { sent: number }) {
  const seen = { bytes: 0, sentAtFirstByte: -1 };
  const server = createServer((incoming, outgoing) => {
    incoming.on('data', (chunk: Buffer) => {
      if (seen.sentAtFirstByte === -1) {
        seen.sentAtFirstByte = progress.sent;
      }
      seen.bytes += chunk.length;
    });
    incoming.on('end', () => {
      outgoing.writeHead(200, { 'content-type': 'application/json' });
      outgoing.end(JSON.stringify({ size: seen.bytes }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen };
}

/** Sends one request to the gateway on 127.0.0.1 and resolves with the whole response. */
function sendRequest(
  port: string,
  options: { method: string; path: string; headers: Record<string, string> },
  body: Readable | Buffer,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const upload = request({ host: '127.0.0.1', port, ...options }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }),
      );
    });
    upload.on('error', reject);
    if (Buffer.isBuffer(body)) {
      upload.end(body);
    } else {
      body.pipe(upload);
    }
  });
}

function memoryInUse(): number {
  const usage = process.memoryUsage();
  return usage.heapUsed + usage.arrayBuffers;
}

it('streams a 50 MB upload with bounded memory', async (t) => {
  const progress = { sent: 0 };
  const upstream = await startCountingUpstream(t, progress);
  const { url } = await startGatewayFor(
    t,
    `routes:\n  - path: /upload\n    target: ${upstream.url}\n`,
  );
  global.gc?.();
  const baseline = memoryInUse();
  let peak = baseline;
  const sampler = setInterval(() => {
    peak = Math.max(peak, memoryInUse());
  }, 10);
  const { port } = new URL(url);
  const response = await sendRequest(
    port,
    {
      method: 'PUT',
      path: '/upload/big.bin',
      headers: {
        'content-type': 'application/octet-stream',
        'content-length': String(UPLOAD_BYTES),
      },
    },
    generatedBody(UPLOAD_BYTES, progress),
  );
  clearInterval(sampler);
  assert.equal(response.status, 200);
  assert.equal(JSON.parse(response.body).size, UPLOAD_BYTES);
  assert.equal(upstream.seen.bytes, UPLOAD_BYTES);
  // A gateway that buffered the body would forward its first byte only after all 50 MB arrived.
  const sentMb = Math.round(upstream.seen.sentAtFirstByte / 1048576);
  assert.ok(
    upstream.seen.sentAtFirstByte < 8 * 1024 * 1024,
    `upstream saw its first byte after ${sentMb} MB`,
  );
  // Holding the body would cost at least 50 MB; the growth that remains is collectable garbage.
  const growth = peak - baseline;
  assert.ok(growth < 45 * 1024 * 1024, `memory grew by ${Math.round(growth / 1048576)} MB`);
});

it('rejects a body over the route limit with 413', async (t) => {
  const upstream = await startUpstream(undefined, { buffer: false });
  t.after(() => upstream.close());
  const { url } = await startGatewayFor(
    t,
    `routes:\n  - path: /small\n    target: ${upstream.url}\n    body_limit: 1kb\n`,
  );
  const { port } = new URL(url);
  const status = await new Promise<number>((resolve, reject) => {
    const upload = request(
      {
        host: '127.0.0.1',
        port,
        method: 'POST',
        path: '/small',
        headers: { 'content-length': '4096' },
      },
      (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      },
    );
    upload.on('error', reject);
    upload.end(Buffer.alloc(4096));
  });
  assert.equal(status, 413);
  assert.equal(upstream.requests.length, 0);
});

it('chunked 413 names the limit', async (t) => {
  // This upstream closes its connections when the test ends, open or idle.
  const upstream = await startUpstream();
  t.after(() => upstream.close());
  const { url } = await startGatewayFor(
    t,
    `routes:\n  - path: /small\n    target: ${upstream.url}\n    body_limit: 16kb\n`,
  );
  const { port } = new URL(url);
  // A body just over the limit, written at once, so the response arrives after the whole request.
  const response = await sendRequest(
    port,
    { method: 'POST', path: '/small', headers: { 'transfer-encoding': 'chunked' } },
    Buffer.alloc(20 * 1024, 'x'),
  );
  assert.equal(response.status, 413);
  const error = JSON.parse(response.body) as { code: string; error: string };
  assert.equal(error.code, 'PACTOWN_ERR_BODY_TOO_LARGE');
  assert.equal(error.error, 'request body exceeds 16384 bytes');
});

it('cuts a chunked body over the route limit', async (t) => {
  const progress = { sent: 0 };
  const upstream = await startCountingUpstream(t, progress);
  const { url } = await startGatewayFor(
    t,
    `routes:\n  - path: /small\n    target: ${upstream.url}\n    body_limit: 16kb\n`,
  );
  const { port } = new URL(url);
  const status = await new Promise<number>((resolve) => {
    const upload = request(
      {
        host: '127.0.0.1',
        port,
        method: 'POST',
        path: '/small',
        headers: { 'transfer-encoding': 'chunked' },
      },
      (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      },
    );
    // A closed socket before the status line is also a rejection; 0 stands for it.
    upload.on('error', () => resolve(0));
    upload.on('close', () => resolve(0));
    generatedBody(1024 * 1024, progress).pipe(upload);
  });
  assert.notEqual(status, 200);
  assert.notEqual(status, 502);
  assert.ok(
    upstream.seen.bytes <= 16 * 1024 + CHUNK.length,
    `upstream got ${upstream.seen.bytes} bytes`,
  );
});
