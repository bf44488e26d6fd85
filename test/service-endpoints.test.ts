import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import { builtinLoadOptions } from '../cli/builtins.js';
import { createGateway, loadConfig } from '../core/index.js';
import {
  loadTestConfig,
  rawRequest,
  sendRawWhole,
  startGatewayFor,
  startUpstream,
  writeConfig,
} from './helpers.js';

/** Writes raw bytes to the gateway and returns the status line of its response. */
async function sendRaw(url: string, bytes: string): Promise<string> {
  return (await sendRawWhole(url, bytes)).split('\r\n')[0];
}

describe('service endpoints', () => {
  it('reports health and the route count', async (t) => {
    const { url } = await startGatewayFor(
      t,
      'routes:\n  - path: /a\n    target: http://127.0.0.1:9\n',
    );
    const response = await rawRequest(url, { path: '/health' });
    assert.equal(response.status, 200);
    assert.deepEqual(JSON.parse(response.body), { status: 'ok', routes: 1 });
  });

  it('counts requests in /stats', async (t) => {
    const upstream = await startUpstream();
    t.after(() => upstream.close());
    const { url } = await startGatewayFor(
      t,
      `routes:\n  - path: /a\n    target: ${upstream.url}\n`,
    );
    await rawRequest(url, { path: '/a' });
    await rawRequest(url, { path: '/a/b' });
    const stats = JSON.parse((await rawRequest(url, { path: '/stats' })).body);
    for (const key of [
      'requests_total',
      'requests_cached',
      'requests_rate_limited',
      'webhooks_received',
      'errors',
      'started_at',
    ]) {
      assert.ok(key in stats, `missing ${key}`);
    }
    assert.equal(stats.routes['/a'].requests, 2);
    assert.ok(stats.requests_total >= 2);
    assert.ok(!Number.isNaN(Date.parse(stats.started_at)));
  });

  it('redacts secrets in /routes', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'pactown-redact-'));
    writeFileSync(
      join(dir, 'signer.mjs'),
      `export default { name: 'signer', kind: 'policy', apiVersion: 1,
  optionsSchema: { type: 'object', properties: { opaque: { type: 'string', writeOnly: true },
    api_key: { type: 'string' }, label: { type: 'string' } } },
  async register() {} };\n`,
    );
    const file = writeConfig(
      `plugins: [./signer.mjs]\nroutes:\n  - path: /a\n    target: http://127.0.0.1:9\n    plugins:\n      - signer: { opaque: value-one, api_key: value-two, label: "\${LABEL}" }\n  - provider: stripe\n    secret: whsec_redact\n    target: http://127.0.0.1:9/in?page=2&access%5Ftoken=tok-one&Sig=tok-two\n`,
      'gateway.yaml',
      dir,
    );
    const env = { LABEL: 'prefix-SECRET-VALUE-suffix', SIGNER_TOKEN: 'SECRET-VALUE' };
    const loaded = await loadConfig(file, builtinLoadOptions(env));
    const gateway = await createGateway(loaded, { logger: false, env });
    t.after(() => gateway.close());
    const text = (await rawRequest(await gateway.listen(0, '127.0.0.1'), { path: '/routes' })).body;
    assert.ok(!text.includes('value-one'), text);
    assert.ok(!text.includes('value-two'), text);
    assert.ok(!text.includes('tok-one'), text);
    assert.ok(!text.includes('tok-two'), text);
    const [route, webhook] = JSON.parse(text).routes;
    assert.equal(webhook.target, 'http://127.0.0.1:9/in?page=2&access%5Ftoken=***&Sig=***');
    assert.equal(route.plugins[0].options.opaque, '***');
    assert.equal(route.plugins[0].options.api_key, '***');
    assert.equal(route.plugins[0].name, 'signer');
  });

  it('writes an access log when enabled', async (t) => {
    const upstream = await startUpstream();
    t.after(() => upstream.close());
    const lines: Record<string, unknown>[] = [];
    const logger = pino(
      { level: 'info' },
      { write: (line: string) => lines.push(JSON.parse(line)) },
    );
    const loaded = await loadTestConfig(
      `server:\n  access_log: true\nroutes:\n  - path: /a\n    target: ${upstream.url}\n`,
    );
    const gateway = await createGateway(loaded, { logger });
    t.after(() => gateway.close());
    const url = await gateway.listen(0, '127.0.0.1');
    await rawRequest(url, { path: '/a/x?token=hidden-value' });
    await rawRequest(url, { path: '/missing' });
    const logged = lines.filter((line) => line.msg === 'request completed');
    assert.equal(logged.length, 2, 'one line per response');
    assert.deepEqual(
      logged.map((line) => [line.method, line.path, line.status, line.route]),
      [
        ['GET', '/a/x', 200, '/a'],
        ['GET', '/missing', 404, undefined],
      ],
    );
    assert.equal(typeof logged[0].duration_ms, 'number');
    assert.ok(!JSON.stringify(lines).includes('hidden-value'), 'the query string is not logged');
  });

  it('answers 405 to other methods', async (t) => {
    const { url } = await startGatewayFor(t, 'routes: []\n');
    for (const path of ['/health', '/stats', '/routes']) {
      const response = await rawRequest(url, { method: 'POST', path });
      assert.equal(response.status, 405, path);
      assert.equal(response.headers.allow, 'GET, HEAD');
      assert.equal(JSON.parse(response.body).code, 'PACTOWN_ERR_METHOD_NOT_ALLOWED');
    }
  });

  it('routes show durations with units', async (t) => {
    const { url } = await startGatewayFor(
      t,
      'routes:\n  - path: /a\n    target: http://127.0.0.1:9\n    rate_limit: 100/min\n    cache: { ttl: 1500ms }\n',
    );
    const [route] = JSON.parse((await rawRequest(url, { path: '/routes' })).body).routes;
    const [limit, cache] = route.plugins;
    assert.deepEqual(limit.options, {
      max: 100,
      window: '60s',
      key: 'ip',
      on_store_error: 'allow',
    });
    assert.equal(cache.options.ttl, '1500ms');
    // Read back as a config, the shown options give the same limits.
    const reloaded = await loadTestConfig(
      `routes:\n  - path: /a\n    target: http://127.0.0.1:9\n    rate_limit: ${JSON.stringify(limit.options)}\n    cache: ${JSON.stringify(cache.options)}\n`,
    );
    const [reloadedLimit, reloadedCache] = reloaded.config.routes[0].policies;
    assert.equal((reloadedLimit.options as { window: number }).window, 60_000);
    assert.equal((reloadedCache.options as { ttl: number }).ttl, 1_500);
  });

  it('answers parser errors with JSON codes', async (t) => {
    const { url } = await startGatewayFor(t, 'routes: []\n');
    const cases: [string, string, string][] = [
      [
        'GET /health HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n',
        '400',
        'PACTOWN_ERR_BAD_REQUEST',
      ],
      [
        `GET /health HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`,
        '431',
        'PACTOWN_ERR_HEADERS_TOO_LARGE',
      ],
      ['GET /health HTTP/1.1\r\nHo st: x\r\n\r\n', '400', 'PACTOWN_ERR_BAD_REQUEST'],
      [
        'CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n',
        '405',
        'PACTOWN_ERR_METHOD_NOT_ALLOWED',
      ],
    ];
    for (const [bytes, status, code] of cases) {
      const response = await sendRawWhole(url, bytes);
      assert.match(response, new RegExp(`^HTTP/1\\.1 ${status} `), bytes.slice(0, 60));
      const body = JSON.parse(response.slice(response.indexOf('\r\n\r\n') + 4));
      assert.equal(body.code, code);
      assert.ok(body.error.length > 0);
    }
  });

  it('answers malformed requests with 400', async (t) => {
    const { url } = await startGatewayFor(t, 'routes: []\n');
    assert.match(await sendRaw(url, 'GARBAGE\r\n\r\n'), /^HTTP\/1\.1 400/);
    assert.match(
      await sendRaw(url, 'GET /health HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n'),
      /^HTTP\/1\.1 400/,
    );
    assert.match(
      await sendRaw(url, 'GET /%zz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'),
      /^HTTP\/1\.1 (400|404)/,
    );
    const badUrl = await rawRequest(url, { path: '/%zz?token=hidden-value' });
    assert.equal(badUrl.status, 400);
    assert.equal(JSON.parse(badUrl.body).code, 'PACTOWN_ERR_BAD_REQUEST');
    assert.ok(!badUrl.body.includes('hidden-value'), 'the query string is not echoed');
    const health = await rawRequest(url, { path: '/health' });
    assert.equal(health.status, 200);
  });
});
