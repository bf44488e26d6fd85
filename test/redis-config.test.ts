import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError } from '../core/index.js';
import { redactRedisUrl, redisSettingsFromOptions } from '../core/stores/redis-connection.js';
import {
  defaultCacheStore,
  defaultLimiterStore,
  deliveryBackend,
  idempotencyBackend,
  readRedisSettings,
} from '../core/stores/redis-settings.js';
import { loadTestConfig } from './helpers.js';

async function configErrors(text: string): Promise<string> {
  try {
    await loadTestConfig(text);
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${error}`);
    return error.message;
  }
  assert.fail('the config loaded');
}

test('redis url alone chooses redis everywhere', async () => {
  const { config, registry } = await loadTestConfig(`
storage:
  path: ./data
stores:
  redis:
    url: redis://:s3cret@127.0.0.1:6379/2
routes: []
`);
  assert.equal(defaultLimiterStore(config, registry), 'redis');
  assert.equal(defaultCacheStore(config, registry), 'redis');
  assert.equal(idempotencyBackend(config), 'redis');
  assert.equal(deliveryBackend(config), 'redis');
  const settings = readRedisSettings(config);
  assert.equal(settings?.keyPrefix, 'pactown:');
  assert.equal(settings?.connectTimeoutMs, 1_000);
  assert.equal(settings?.commandTimeoutMs, 1_000);
});

test('redis choices per concern win', async () => {
  const { config, registry } = await loadTestConfig(`
storage:
  path: ./data
stores:
  redis: { url: redis://127.0.0.1:6379, key_prefix: "shop-a:", command_timeout: 250ms }
  limiter: memory
  cache: redis
  idempotency: sqlite
  delivery: sqlite
routes: []
`);
  assert.equal(defaultLimiterStore(config, registry), 'memory');
  assert.equal(defaultCacheStore(config, registry), 'redis');
  assert.equal(idempotencyBackend(config), 'sqlite');
  assert.equal(deliveryBackend(config), 'sqlite');
  assert.equal(readRedisSettings(config)?.commandTimeoutMs, 250);
  assert.equal(readRedisSettings(config)?.keyPrefix, 'shop-a:');
});

test('redis config defaults stay embedded', async () => {
  const { config, registry } = await loadTestConfig('routes: []\n');
  assert.equal(defaultLimiterStore(config, registry), 'memory');
  assert.equal(defaultCacheStore(config, registry), 'memory');
  assert.equal(idempotencyBackend(config), 'memory');
  assert.equal(deliveryBackend(config), 'sqlite');
  assert.equal(readRedisSettings(config), undefined);
  const stored = await loadTestConfig('storage:\n  path: ./data\nroutes: []\n');
  assert.equal(idempotencyBackend(stored.config), 'sqlite');
});

test('redis config rejects a choice without url', async () => {
  for (const key of ['limiter', 'cache', 'idempotency', 'delivery']) {
    const message = await configErrors(`stores:\n  ${key}: redis\nroutes: []\n`);
    assert.match(message, /stores: missing required key "redis"/, key);
  }
  const message = await configErrors('stores:\n  redis: { key_prefix: "a:" }\nroutes: []\n');
  assert.match(message, /stores\.redis: missing required key "url"/);
});

test('redis config rejects bad values', async () => {
  const badUrl = await configErrors('stores:\n  redis: { url: "http://x" }\nroutes: []\n');
  assert.match(badUrl, /stores\.redis\.url: expected a Redis URL/);
  const typo = await configErrors(
    'stores:\n  redis: { url: "redis://x", prefix: a }\nroutes: []\n',
  );
  assert.match(typo, /unknown key "prefix"/);
  const store = await configErrors('stores:\n  limiter: memcached\nroutes: []\n');
  assert.match(store, /stores\.limiter: expected one of "memory", "redis"/);
  const options = await configErrors(
    'stores:\n  redis: { url: "redis://x" }\n  options:\n    redis: { max_entries: 0 }\nroutes: []\n',
  );
  assert.match(options, /stores\.options\.redis\.max_entries/);
  const timeout = await configErrors(
    'stores:\n  redis: { url: "redis://x", command_timeout: soon }\nroutes: []\n',
  );
  assert.match(timeout, /stores\.redis\.command_timeout: expected a duration/);
});

test('redis url is redacted for logs', () => {
  assert.equal(redactRedisUrl('redis://:s3cret@cache:6379/0'), 'redis://:***@cache:6379/0');
  assert.equal(redactRedisUrl('rediss://gateway:s3cret@cache:6380'), 'rediss://***:***@cache:6380');
  assert.equal(redactRedisUrl('redis://127.0.0.1:6379'), 'redis://127.0.0.1:6379');
  assert.ok(!redactRedisUrl('redis://%zz:pw@host').includes('pw'));
});

test('redis store without url names the fix', () => {
  assert.throws(
    () => redisSettingsFromOptions({}, 'the redis cache store'),
    /the redis cache store needs a Redis URL; set stores\.redis\.url/,
  );
});
