import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import Fastify from 'fastify';
import { useRawBodyParser } from '../core/webhooks/raw-body.js';

describe('webhook raw body parser', () => {
  test('reads every content type as bytes inside its scope only', async (t) => {
    const app = Fastify();
    t.after(() => app.close());
    await app.register(async (scope) => {
      useRawBodyParser(scope, 64);
      scope.post('/hook', async (request) => ({
        isBuffer: Buffer.isBuffer(request.body),
        hex: Buffer.isBuffer(request.body) ? request.body.toString('hex') : null,
      }));
    });
    app.post('/api', async (request) => ({ parsed: request.body }));

    const json = await app.inject({
      method: 'POST',
      url: '/hook',
      payload: '{ "a" : 1 }',
      headers: { 'content-type': 'application/json' },
    });
    assert.deepEqual(json.json(), {
      isBuffer: true,
      hex: Buffer.from('{ "a" : 1 }').toString('hex'),
    });
    for (const contentType of [
      'application/x-www-form-urlencoded',
      'text/plain',
      'application/vnd.custom+xml',
      'multipart/form-data; boundary=x',
    ]) {
      const response = await app.inject({
        method: 'POST',
        url: '/hook',
        payload: 'a=1&b=2',
        headers: { 'content-type': contentType },
      });
      assert.equal(response.json().isBuffer, true, contentType);
    }
    const untyped = await app.inject({
      method: 'POST',
      url: '/hook',
      payload: Buffer.from([0xff, 0x00]),
    });
    assert.equal(untyped.json().hex, 'ff00');
    const tooLarge = await app.inject({
      method: 'POST',
      url: '/hook',
      payload: 'x'.repeat(65),
      headers: { 'content-type': 'text/plain' },
    });
    assert.equal(tooLarge.statusCode, 413);

    const other = await app.inject({ method: 'POST', url: '/api', payload: { a: 1 } });
    assert.deepEqual(other.json(), { parsed: { a: 1 } });
    const otherText = await app.inject({
      method: 'POST',
      url: '/api',
      payload: 'x'.repeat(200),
      headers: { 'content-type': 'text/plain' },
    });
    assert.deepEqual(otherText.json(), { parsed: 'x'.repeat(200) });
  });
});
