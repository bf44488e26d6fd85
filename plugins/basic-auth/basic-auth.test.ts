import assert from 'node:assert/strict';
import { randomBytes, scryptSync } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import bcrypt from 'bcryptjs';
import { ConfigError } from '../../core/index.js';
import { loadTestConfig, startGatewayFor, startUpstream, writeConfig } from '../../test/helpers.js';
import { echoedHeaders, httpClient } from '../../test/policies-support.js';

/** Hashes `password` in passlib's scrypt format, with small cost parameters for a quick test. */
function scryptHash(password: string): string {
  const salt = randomBytes(16);
  const key = scryptSync(password, salt, 32, { N: 2 ** 10, r: 8, p: 1 });
  const adapted = (bytes: Buffer) =>
    bytes.toString('base64').replace(/=+$/, '').replace(/\+/g, '.');
  return `$scrypt$ln=10,r=8,p=1$${adapted(salt)}$${adapted(key)}`;
}

const basic = (user: string, password: string) => ({
  authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`,
});

function writeUsers(lines: string): string {
  const file = join(dirname(writeConfig('')), 'users.htpasswd');
  writeFileSync(file, lines);
  return file;
}

async function startBasicGateway(t: import('node:test').TestContext, options = '') {
  const upstream = await startUpstream();
  t.after(() => upstream.close());
  const users = writeUsers(
    `# operators\nalice:${bcrypt.hashSync('alice-password', 4)}\n\nbob:${scryptHash('bob-password')}\n`,
  );
  const { url } = await startGatewayFor(
    t,
    `routes:\n  - path: /ops/*\n    target: ${upstream.url}\n    auth: { scheme: basic, users_file: ${users}, realm: ops${options} }\n`,
  );
  return { url, upstream, send: httpClient(t) };
}

test('basic auth accepts bcrypt and scrypt users', async (t) => {
  const { url, send } = await startBasicGateway(t);
  const alice = await send(`${url}/ops/a`, { headers: basic('alice', 'alice-password') });
  assert.equal(alice.status, 200);
  assert.equal(echoedHeaders(alice).authorization, undefined, 'credentials must not be forwarded');
  const bob = await send(`${url}/ops/a`, { headers: basic('bob', 'bob-password') });
  assert.equal(bob.status, 200);
  const again = await send(`${url}/ops/a`, { headers: basic('bob', 'bob-password') });
  assert.equal(again.status, 200, 'a cached verification must still pass');
});

test('basic auth rejections', async (t) => {
  const { url, send, upstream } = await startBasicGateway(t, ', allowed_users: [alice]');
  const missing = await send(`${url}/ops/a`);
  assert.equal(missing.status, 401);
  assert.equal(missing.headers['www-authenticate'], 'Basic realm="ops", charset="UTF-8"');
  assert.equal(missing.json().code, 'PACTOWN_ERR_AUTH_MISSING');
  const wrong = await send(`${url}/ops/a`, { headers: basic('alice', 'alice-passwore') });
  assert.equal(wrong.status, 401);
  assert.equal(wrong.json().error, 'invalid user name or password');
  const unknown = await send(`${url}/ops/a`, { headers: basic('mallory', 'alice-password') });
  assert.equal(unknown.status, 401);
  assert.equal(unknown.json().error, 'invalid user name or password');
  const malformed = await send(`${url}/ops/a`, { headers: { authorization: 'Basic !!!' } });
  assert.equal(malformed.status, 401);
  assert.equal(malformed.json().code, 'PACTOWN_ERR_AUTH_INVALID');
  const forbidden = await send(`${url}/ops/a`, { headers: basic('bob', 'bob-password') });
  assert.equal(forbidden.status, 403);
  assert.equal(forbidden.json().code, 'PACTOWN_ERR_AUTH_FORBIDDEN');
  assert.equal(upstream.requests.length, 0);
});

test('basic auth users file errors name the line', async () => {
  const users = writeUsers('alice:$2b$04$short\ncarol-without-hash\n');
  await assert.rejects(
    loadTestConfig(
      `routes:\n  - path: /ops/*\n    target: http://127.0.0.1:9\n    auth: { scheme: basic, users_file: ${users} }\n`,
    ),
    (error: unknown) => {
      assert.ok(error instanceof ConfigError);
      assert.equal(error.issues.length, 2);
      assert.match(error.issues[0].message, /line 1: the hash is neither bcrypt/);
      assert.match(error.issues[1].message, /line 2: expected name:hash/);
      assert.equal(error.issues[0].line, 4);
      return true;
    },
  );
});
