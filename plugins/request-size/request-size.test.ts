import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { test } from 'node:test';
import { startGatewayFor, startUpstream } from '../../test/helpers.js';
import { httpClient } from '../../test/policies-support.js';

/** Sends a chunked POST of `size` bytes; resolves with the status, or 0 if the socket dropped. */
function postChunked(url: string, size: number): Promise<number> {
  return new Promise((resolve) => {
    const target = new URL(url);
    const outgoing = httpRequest(
      {
        host: target.hostname,
        port: target.port,
        path: target.pathname,
        method: 'POST',
        agent: false,
      },
      (response) => {
        response.resume();
        response.on('end', () => resolve(response.statusCode ?? 0));
      },
    );
    outgoing.on('error', () => resolve(0));
    const chunk = Buffer.alloc(16 * 1024, 'x');
    let sent = 0;
    const write = () => {
      while (sent < size) {
        sent += chunk.length;
        if (!outgoing.write(chunk)) {
          outgoing.once('drain', write);
          return;
        }
      }
      outgoing.end();
    };
    write();
  });
}

test('request size limits bodies', async (t) => {
  const upstream = await startUpstream();
  t.after(() => upstream.close());
  const { url } = await startGatewayFor(
    t,
    `routes:
  - path: /upload/*
    target: ${upstream.url}
    plugins:
      - request-size: { max_body: 64kb }
  - path: /strict/*
    target: ${upstream.url}
    plugins:
      - request-size: { max_body: 64kb, require_content_length: true }
`,
  );
  const send = httpClient(t);
  const small = await send(`${url}/upload/a`, { method: 'POST', body: Buffer.alloc(1000, 'a') });
  assert.equal(small.status, 200);
  assert.equal(small.json<{ size: number }>().size, 1000);
  const large = await send(`${url}/upload/a`, {
    method: 'POST',
    body: Buffer.alloc(100 * 1024, 'a'),
  });
  assert.equal(large.status, 413);
  assert.equal(large.json().code, 'PACTOWN_ERR_BODY_TOO_LARGE');
  assert.equal(upstream.requests.length, 1, 'a declared large body never reaches the upstream');

  const chunkedSmall = await postChunked(`${url}/upload/a`, 32 * 1024);
  assert.equal(chunkedSmall, 200);
  const chunkedLarge = await postChunked(`${url}/upload/a`, 1024 * 1024);
  assert.notEqual(chunkedLarge, 200, 'a streamed body over the limit must not succeed');
  // The client may see the socket close (0) before it reads the 413, but never a 502.
  assert.notEqual(chunkedLarge, 502, 'a streamed body over the limit is a client error');
  const whole = upstream.requests.filter((recorded) => recorded.body.length > 64 * 1024);
  assert.equal(whole.length, 0, 'the upstream never receives more than the limit');

  const unlengthed = await postChunked(`${url}/strict/a`, 1000);
  assert.equal(unlengthed, 411);
});
