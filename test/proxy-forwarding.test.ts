import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createGateway, type Gateway } from '../core/index.js';
import {
  loadTestConfig,
  rawRequest,
  sendRawWhole,
  startUpstream,
  type TestUpstream,
} from './helpers.js';

describe('proxy forwarding', () => {
  let upstream: TestUpstream;
  let gateway: Gateway;
  let url: string;

  before(async () => {
    upstream = await startUpstream();
    const loaded = await loadTestConfig(
      `server:\n  trust_proxy: [10.0.0.0/8]\nroutes:\n  - path: /api/v1\n    target: ${upstream.url}/base\n  - path: /keep\n    target: ${upstream.url}\n    strip_path: false\n    preserve_host: true\n  - path: /own\n    target: ${upstream.url}\n    plugins: [request-id]\n  - path: /small\n    target: ${upstream.url}\n    body_limit: 1kb\n`,
    );
    gateway = await createGateway(loaded, { logger: false });
    url = await gateway.listen(0, '127.0.0.1');
  });

  after(async () => {
    await gateway.close();
    await upstream.close();
  });

  for (const method of ['GET', 'HEAD', 'OPTIONS', 'DELETE', 'POST', 'PUT', 'PATCH']) {
    it(`forwards ${method} with body, headers and query`, async () => {
      const body =
        method === 'GET' || method === 'HEAD' ? undefined : `{"method":"${method}","n":1}`;
      const response = await rawRequest(url, {
        method,
        path: '/api/v1/items/42?b=2&a=1&a=%20x&flag',
        headers: {
          'content-type': 'application/json',
          'x-custom': 'yes',
          ...(body ? { 'content-length': String(Buffer.byteLength(body)) } : {}),
        },
        body,
      });
      assert.equal(response.status, 200);
      const received = upstream.requests.at(-1)!;
      assert.equal(received.method, method);
      assert.equal(received.url, '/base/items/42?b=2&a=1&a=%20x&flag');
      assert.equal(received.headers['x-custom'], 'yes');
      assert.equal(received.body.toString('utf8'), body ?? '');
    });
  }

  for (const path of ['/api/v1/up', '/own/up']) {
    it(`answers Expect: 100-continue on ${path}`, async () => {
      const body = 'x'.repeat(2048);
      const text = await sendRawWhole(
        url,
        `POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Length: ${body.length}\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n`,
        (received, socket) => {
          if (!received.startsWith('HTTP/1.1 100')) {
            return received;
          }
          // As curl does: the body follows the interim response.
          socket.write(body);
          return '';
        },
      );
      assert.match(text, /^HTTP\/1\.1 200/);
      const received = upstream.requests.at(-1)!;
      assert.equal(received.body.length, body.length);
      assert.equal(received.headers.expect, undefined);
    });
  }

  for (const [path, status] of [
    ['/small/up', 413],
    ['/nowhere', 404],
  ] as const) {
    it(`sends ${status} without 100 Continue`, async () => {
      const before = upstream.requests.length;
      const text = await sendRawWhole(
        url,
        `POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\nExpect: 100-continue\r\n\r\n`,
      );
      // The client never sent the body, so the gateway responded and closed the connection.
      assert.match(text, new RegExp(`^HTTP/1\\.1 ${status} `));
      assert.doesNotMatch(text, /HTTP\/1\.1 100/);
      assert.match(text, /\r\nconnection: close\r\n/i);
      assert.equal(upstream.requests.length, before);
    });
  }

  it('accepts an absolute-form request target', async () => {
    const text = await sendRawWhole(
      url,
      'GET http://gateway.example/api/v1/abs?q=1 HTTP/1.1\r\nHost: ignored.example\r\nConnection: close\r\n\r\n',
    );
    assert.match(text, /^HTTP\/1\.1 200/);
    const received = upstream.requests.at(-1)!;
    assert.equal(received.url, '/base/abs?q=1');
    assert.equal(received.headers['x-forwarded-host'], 'gateway.example');
  });

  it('rewrites Host and sets X-Forwarded headers', async () => {
    await rawRequest(url, { path: '/api/v1/x', headers: { host: 'gateway.example' } });
    const received = upstream.requests.at(-1)!;
    assert.equal(received.headers.host, new URL(upstream.url).host);
    assert.equal(received.headers['x-forwarded-for'], '127.0.0.1');
    assert.equal(received.headers['x-forwarded-proto'], 'http');
    assert.equal(received.headers['x-forwarded-host'], 'gateway.example');
  });

  it('ignores X-Forwarded-For from an untrusted peer', async () => {
    await rawRequest(url, { path: '/api/v1/x', headers: { 'x-forwarded-for': '6.6.6.6' } });
    assert.equal(upstream.requests.at(-1)!.headers['x-forwarded-for'], '127.0.0.1');
  });

  it('replaces untrusted peer address headers', async () => {
    for (const path of ['/api/v1/x', '/own/x']) {
      await rawRequest(url, {
        path,
        headers: {
          'x-real-ip': '6.6.6.6',
          forwarded: 'for=6.6.6.6;proto=https',
          'x-forwarded-port': '8443',
          'x-forwarded-prefix': '/evil',
        },
      });
      const received = upstream.requests.at(-1)!;
      assert.equal(received.headers['x-real-ip'], '127.0.0.1', path);
      assert.equal(received.headers.forwarded, undefined, path);
      assert.equal(received.headers['x-forwarded-port'], undefined, path);
      assert.equal(received.headers['x-forwarded-prefix'], undefined, path);
    }
  });

  it('strips hop-by-hop request headers', async () => {
    await rawRequest(url, {
      path: '/api/v1/x',
      headers: {
        connection: 'keep-alive, x-secret-hop',
        'x-secret-hop': 'drop me',
        'keep-alive': 'timeout=5',
        te: 'trailers',
        'proxy-authorization': 'Basic abc',
        upgrade: 'h2c',
      },
    });
    const received = upstream.requests.at(-1)!;
    assert.equal(received.headers['x-secret-hop'], undefined);
    assert.equal(received.headers['keep-alive'], undefined);
    assert.equal(received.headers.te, undefined);
    assert.equal(received.headers['proxy-authorization'], undefined);
    assert.equal(received.headers.upgrade, undefined);
  });

  it('strips hop-by-hop response headers', async () => {
    const hopUpstream = await startUpstream((_request, response) => {
      response.writeHead(200, {
        'content-type': 'text/plain',
        'keep-alive': 'timeout=99',
        'proxy-authenticate': 'Basic',
        'x-kept': 'yes',
      });
      response.end('ok');
    });
    const loaded = await loadTestConfig(`routes:\n  - path: /h\n    target: ${hopUpstream.url}\n`);
    const hopGateway = await createGateway(loaded, { logger: false });
    const hopUrl = await hopGateway.listen(0, '127.0.0.1');
    try {
      const response = await rawRequest(hopUrl, { path: '/h' });
      assert.equal(response.body, 'ok');
      assert.equal(response.headers['x-kept'], 'yes');
      assert.equal(response.headers['proxy-authenticate'], undefined);
      assert.notEqual(response.headers['keep-alive'], 'timeout=99');
    } finally {
      await hopGateway.close();
      await hopUpstream.close();
    }
  });

  it('keeps the prefix and Host when asked', async () => {
    await rawRequest(url, { path: '/keep/a?x=1', headers: { host: 'public.example' } });
    const received = upstream.requests.at(-1)!;
    assert.equal(received.url, '/keep/a?x=1');
    assert.equal(received.headers.host, 'public.example');
  });

  it('forwards a chunked body', async () => {
    const response = await rawRequest(url, {
      method: 'POST',
      path: '/api/v1/chunked',
      headers: { 'transfer-encoding': 'chunked', 'content-type': 'application/octet-stream' },
      body: Buffer.from([0, 1, 2, 255, 254]),
    });
    assert.equal(response.status, 200);
    assert.deepEqual([...upstream.requests.at(-1)!.body], [0, 1, 2, 255, 254]);
  });
});

describe('proxy forwarding behind a trusted proxy', () => {
  it('keeps the proxy headers of a trusted peer', async () => {
    const upstream = await startUpstream();
    const loaded = await loadTestConfig(
      `server:\n  trust_proxy: [127.0.0.1]\nroutes:\n  - path: /api\n    target: ${upstream.url}\n`,
    );
    const gateway = await createGateway(loaded, { logger: false });
    try {
      const url = await gateway.listen(0, '127.0.0.1');
      await rawRequest(url, {
        path: '/api/x',
        headers: {
          'x-forwarded-for': '203.0.113.7',
          forwarded: 'for=203.0.113.7;proto=https',
          'x-forwarded-port': '8443',
          'x-forwarded-prefix': '/shop',
        },
      });
      const received = upstream.requests.at(-1)!;
      assert.equal(received.headers['x-forwarded-for'], '203.0.113.7, 127.0.0.1');
      assert.equal(received.headers['x-real-ip'], '203.0.113.7');
      assert.equal(received.headers.forwarded, 'for=203.0.113.7;proto=https');
      assert.equal(received.headers['x-forwarded-port'], '8443');
      assert.equal(received.headers['x-forwarded-prefix'], '/shop');
    } finally {
      await gateway.close();
      await upstream.close();
    }
  });
});
