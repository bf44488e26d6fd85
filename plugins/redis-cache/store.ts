import {
  type CacheEntry,
  type CacheStore,
  type RedisLease,
  RedisScript,
} from '../../core/index.js';

/** Bytes counted for each entry beyond its body and headers, as the memory store counts them. */
const ENTRY_OVERHEAD_BYTES = 256;

/*
 * Keys below `<key_prefix>cache:`:
 *   entry:<key>   hash of the entry's metadata (JSON), body and tags, expiring with the entry
 *   lru, expiry   sorted sets of keys by last use and by expiry time
 *   sizes, bytes  the bytes counted for each key, and their sum
 *   tag:<tag>     set of the keys stored with a tag
 */
const PRELUDE = `
local P = ARGV[1]
local LRU, EXPIRY, SIZES, TOTAL = P .. 'lru', P .. 'expiry', P .. 'sizes', P .. 'bytes'

local function entryKey(key)
  return P .. 'entry:' .. key
end

local function remove(key)
  local size = redis.call('HGET', SIZES, key)
  if size then
    redis.call('HDEL', SIZES, key)
    redis.call('DECRBY', TOTAL, size)
  end
  redis.call('ZREM', LRU, key)
  redis.call('ZREM', EXPIRY, key)
  local tags = redis.call('HGET', entryKey(key), 'tags')
  if tags then
    for _, tag in ipairs(cjson.decode(tags)) do
      redis.call('SREM', P .. 'tag:' .. tag, key)
    end
  end
  redis.call('DEL', entryKey(key))
end
`;

function script(name: string, body: string): RedisScript {
  return new RedisScript(name, `${PRELUDE}\n${body}`);
}

/**
 * ARGV: prefix, key, metadata, body, bytes, ttl ms, now, max entries, max bytes, tags JSON,
 * tags. Replaces the entry under the key, drops up to 100 expired entries, declines an entry
 * larger than the byte budget, and evicts the least recently used entries past either limit.
 */
const SET = script(
  'pactownCacheSet',
  `
local key, bytes, ttl, now = ARGV[2], tonumber(ARGV[5]), tonumber(ARGV[6]), tonumber(ARGV[7])
local maxEntries, maxBytes = tonumber(ARGV[8]), tonumber(ARGV[9])
remove(key)
for _, expired in ipairs(redis.call('ZRANGEBYSCORE', EXPIRY, '-inf', now, 'LIMIT', 0, 100)) do
  remove(expired)
end
if bytes > maxBytes or ttl <= 0 then
  return 0
end
redis.call('HSET', entryKey(key), 'meta', ARGV[3], 'body', ARGV[4], 'tags', ARGV[10])
redis.call('PEXPIRE', entryKey(key), ttl)
redis.call('HSET', SIZES, key, bytes)
redis.call('INCRBY', TOTAL, bytes)
redis.call('ZADD', LRU, now, key)
redis.call('ZADD', EXPIRY, now + ttl, key)
for i = 11, #ARGV do
  local tagKey = P .. 'tag:' .. ARGV[i]
  redis.call('SADD', tagKey, key)
  if redis.call('PTTL', tagKey) < ttl then
    redis.call('PEXPIRE', tagKey, ttl)
  end
end
while redis.call('ZCARD', LRU) > maxEntries or tonumber(redis.call('GET', TOTAL) or '0') > maxBytes do
  local oldest = redis.call('ZRANGE', LRU, 0, 0)
  if not oldest[1] then
    break
  end
  remove(oldest[1])
end
return 1
`,
);

/**
 * ARGV: prefix, key, now. Returns {metadata, body} and marks the entry used, or nil. An entry
 * that expired leaves its bookkeeping behind, which is removed here.
 */
const GET = script(
  'pactownCacheGet',
  `
local found = redis.call('HMGET', entryKey(ARGV[2]), 'meta', 'body')
if not found[1] then
  if redis.call('ZSCORE', LRU, ARGV[2]) then
    remove(ARGV[2])
  end
  return false
end
redis.call('ZADD', LRU, 'XX', ARGV[3], ARGV[2])
return found
`,
);

/** ARGV: prefix, key. */
const DELETE = script(
  'pactownCacheDelete',
  `
remove(ARGV[2])
return 1
`,
);

/** ARGV: prefix, tag. Removes every entry stored with the tag. */
const INVALIDATE = script(
  'pactownCacheInvalidate',
  `
local tagKey = P .. 'tag:' .. ARGV[2]
local keys = redis.call('SMEMBERS', tagKey)
for _, key in ipairs(keys) do
  remove(key)
end
redis.call('DEL', tagKey)
return #keys
`,
);

/** Limits of a {@link RedisCacheStore}, shared by every instance that uses the same prefix. */
export interface RedisCacheLimits {
  maxEntries: number;
  maxBytes: number;
}

/** Metadata stored next to the body of an entry. */
interface EntryMetadata {
  status: number;
  headers: Record<string, string | string[]>;
  storedAt: number;
  expiresAt: number;
  vary?: string[];
}

/**
 * Responses in Redis, shared by every gateway instance with the same key prefix, so an entry
 * filled through one instance is a hit through the others. Body and headers are one hash that
 * expires with the entry. The limits are those of the memory store, counted the same way, but
 * for the whole shared cache: least recently used entries go first, and an entry larger than
 * the byte budget is not stored. Entries that expired count in `size` until the next `set`
 * sweeps them or a `get` finds them gone.
 */
export class RedisCacheStore implements CacheStore {
  private readonly prefix: string;

  constructor(
    private readonly lease: RedisLease,
    readonly limits: RedisCacheLimits,
    private readonly now: () => number = Date.now,
  ) {
    this.prefix = `${lease.settings.keyPrefix}cache:`;
  }

  async get(key: string): Promise<CacheEntry | undefined> {
    const found = (await GET.runBuffer(this.lease.client, [], [this.prefix, key, this.now()])) as
      | [Buffer, Buffer]
      | null;
    if (!found) {
      return undefined;
    }
    const metadata = JSON.parse(found[0].toString('utf8')) as EntryMetadata;
    return { ...metadata, body: found[1] };
  }

  async set(key: string, entry: CacheEntry, tags: string[]): Promise<void> {
    const now = this.now();
    const metadata: EntryMetadata = {
      status: entry.status,
      headers: entry.headers,
      storedAt: entry.storedAt,
      expiresAt: entry.expiresAt,
      vary: entry.vary,
    };
    await SET.run(
      this.lease.client,
      [],
      [
        this.prefix,
        key,
        JSON.stringify(metadata),
        entry.body,
        sizeOf(key, entry),
        Math.round(entry.expiresAt - now),
        now,
        this.limits.maxEntries,
        this.limits.maxBytes,
        JSON.stringify(tags),
        ...tags,
      ],
    );
  }

  async delete(key: string): Promise<void> {
    await DELETE.run(this.lease.client, [], [this.prefix, key]);
  }

  async invalidate(tag: string): Promise<void> {
    await INVALIDATE.run(this.lease.client, [], [this.prefix, tag]);
  }

  async size(): Promise<{ entries: number; bytes: number }> {
    const [entries, bytes] = await Promise.all([
      this.lease.client.zcard(`${this.prefix}lru`),
      this.lease.client.get(`${this.prefix}bytes`),
    ]);
    return { entries, bytes: Number(bytes ?? 0) };
  }

  async close(): Promise<void> {
    await this.lease.release();
  }
}

/** Counts an entry as the memory store does: overhead, key, body and header text. */
function sizeOf(key: string, entry: CacheEntry): number {
  let bytes = ENTRY_OVERHEAD_BYTES + key.length + entry.body.length;
  for (const [name, value] of Object.entries(entry.headers)) {
    bytes += name.length + (Array.isArray(value) ? value.join('').length : value.length);
  }
  return bytes;
}
