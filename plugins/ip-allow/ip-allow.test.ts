import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError } from '../../core/index.js';
import { loadTestConfig, startGatewayFor, startUpstream } from '../../test/helpers.js';
import { httpClient } from '../../test/policies-support.js';
import { parseRange } from './index.js';

test('ip allow and deny lists', async (t) => {
  const upstream = await startUpstream();
  t.after(() => upstream.close());
  const { url } = await startGatewayFor(
    t,
    `server:
  trust_proxy: [127.0.0.1/32]
routes:
  - path: /office/*
    target: ${upstream.url}
    plugins:
      - ip-allow: { allow: [192.168.10.0/24, "2001:db8::/32"], deny: [192.168.10.66] }
  - path: /local/*
    target: ${upstream.url}
    plugins:
      - ip-allow: { allow: [127.0.0.0/8] }
`,
  );
  const send = httpClient(t);
  const from = (path: string, client?: string) =>
    send(`${url}${path}`, client ? { headers: { 'x-forwarded-for': client } } : {});
  assert.equal((await from('/office/a', '192.168.10.5')).status, 200);
  assert.equal((await from('/office/a', '2001:db8::7')).status, 200);
  const denied = await from('/office/a', '192.168.10.66');
  assert.equal(denied.status, 403);
  assert.deepEqual(denied.json(), {
    error: 'client address 192.168.10.66 is not allowed on this route',
    code: 'PACTOWN_ERR_IP_FORBIDDEN',
    route: '/office/*',
  });
  assert.equal((await from('/office/a', '10.0.0.1')).status, 403);
  assert.equal(
    (await from('/office/a')).status,
    403,
    'the proxy itself is not in the office range',
  );
  assert.equal((await from('/local/a')).status, 200);
  assert.equal(upstream.requests.length, 3);
});

test('ip allow range parsing', () => {
  assert.deepEqual(parseRange('10.0.0.0/8'), { address: '10.0.0.0', prefix: 8, family: 'ipv4' });
  assert.deepEqual(parseRange('::1'), { address: '::1', prefix: 128, family: 'ipv6' });
  for (const bad of ['10.0.0.0/33', '10.0.0/8', 'localhost', '10.0.0.1/', '::/129']) {
    assert.equal(parseRange(bad), undefined, `${bad} must be rejected`);
  }
});

test('ip allow bad range is a config error', async () => {
  await assert.rejects(
    loadTestConfig(
      'routes:\n  - path: /api/*\n    target: http://127.0.0.1:9\n    plugins:\n      - ip-allow:\n          allow: [10.0.0.0/8, 300.1.1.1]\n',
    ),
    (error: unknown) => {
      assert.ok(error instanceof ConfigError);
      assert.equal(error.issues[0].message, '"300.1.1.1" is not an IP address or CIDR range');
      assert.equal(error.issues[0].path, 'routes[0].plugins[0].ip-allow.allow[1]');
      assert.equal(error.issues[0].line, 6);
      return true;
    },
  );
});
