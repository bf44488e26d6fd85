import { RedisScript } from '../stores/redis-connection.js';

/*
 * Lua scripts of the Redis delivery store. Each runs atomically in Redis, so several gateway
 * instances can enqueue, claim and complete against one queue. ARGV[1] is always the key prefix
 * of the queue (`<key_prefix>delivery:`). Keys below it:
 *
 *   d:<id>            hash of one delivery (the fields of the SQLite row, plus seq and member)
 *   attempts:<id>     list of attempts as JSON, oldest first
 *   seq               counter that numbers deliveries in enqueue order
 *   all, status:<s>, provider:<p>, target:<t>, route:<r>
 *                     sorted sets of ids scored by seq, for listings newest first
 *   due:<target>      pending deliveries that may be attempted, scored by next_attempt_at; the
 *                     member is the zero-padded seq, ':' and the id, so equal times keep
 *                     enqueue order
 *   targets           targets scored by the earliest due time in their due set
 *   order:<key>       unfinished deliveries of an ordering key, scored by seq; only the first
 *                     is ever in a due set
 *   leases            in-flight deliveries scored by lease end
 *   owners, held:<o>  workers scored by their last heartbeat (Redis clock), and the ids each
 *                     holds in flight
 *   finished          delivered and dead deliveries scored by updated_at, for pruning
 */

const PRELUDE = `
local P = ARGV[1]

local function dkey(id)
  return P .. 'd:' .. id
end

local function refreshTarget(target)
  local first = redis.call('ZRANGE', P .. 'due:' .. target, 0, 0, 'WITHSCORES')
  if first[1] then
    redis.call('ZADD', P .. 'targets', first[2], target)
  else
    redis.call('ZREM', P .. 'targets', target)
  end
end

local function moveStatus(id, from, to, seq)
  if from == to then
    return
  end
  if from then
    redis.call('ZREM', P .. 'status:' .. from, id)
  end
  redis.call('ZADD', P .. 'status:' .. to, seq, id)
end

-- Puts a pending delivery in its target's due set, unless an older delivery of its ordering
-- key is unfinished.
local function schedule(id)
  local f = redis.call('HMGET', dkey(id), 'target', 'member', 'next_attempt_at', 'order_key')
  if not f[1] then
    return
  end
  if f[4] then
    local head = redis.call('ZRANGE', P .. 'order:' .. f[4], 0, 0)
    if head[1] ~= id then
      return
    end
  end
  redis.call('ZADD', P .. 'due:' .. f[1], f[3], f[2])
  refreshTarget(f[1])
end

local function unschedule(id)
  local f = redis.call('HMGET', dkey(id), 'target', 'member')
  if f[1] and redis.call('ZREM', P .. 'due:' .. f[1], f[2]) == 1 then
    refreshTarget(f[1])
  end
end

-- Keeps the ordering invariant after the set changed: the first delivery is due when pending,
-- and the second, which was the first until a replay put an older one ahead, is not.
local function refreshOrder(orderKey)
  local ids = redis.call('ZRANGE', P .. 'order:' .. orderKey, 0, 1)
  if ids[1] and redis.call('HGET', dkey(ids[1]), 'status') == 'pending' then
    schedule(ids[1])
  end
  if ids[2] then
    unschedule(ids[2])
  end
end

-- Returns an in-flight delivery to pending, keeping its due time. With owner, only when that
-- worker still holds it.
local function requeue(id, now, owner)
  local f = redis.call('HMGET', dkey(id), 'status', 'owner', 'seq')
  if f[1] ~= 'in_flight' or (owner and f[2] ~= owner) then
    return 0
  end
  redis.call('HSET', dkey(id), 'status', 'pending', 'updated_at', now)
  redis.call('HDEL', dkey(id), 'lease_until', 'owner')
  redis.call('ZREM', P .. 'leases', id)
  if f[2] then
    redis.call('SREM', P .. 'held:' .. f[2], id)
  end
  moveStatus(id, 'in_flight', 'pending', f[3])
  schedule(id)
  return 1
end

local function redisClock()
  local time = redis.call('TIME')
  return tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
end

-- Requeues what workers hold whose last heartbeat is older than staleMs.
local function reapOwners(now, staleMs)
  local stale = redis.call('ZRANGEBYSCORE', P .. 'owners', '-inf', redisClock() - staleMs,
    'LIMIT', 0, 100)
  local count = 0
  for _, owner in ipairs(stale) do
    for _, id in ipairs(redis.call('SMEMBERS', P .. 'held:' .. owner)) do
      count = count + requeue(id, now, owner)
    end
    redis.call('DEL', P .. 'held:' .. owner)
    redis.call('ZREM', P .. 'owners', owner)
  end
  return count
end

local function heartbeat(owner)
  redis.call('ZADD', P .. 'owners', redisClock(), owner)
end
`;

function script(name: string, body: string): RedisScript {
  return new RedisScript(name, `${PRELUDE}\n${body}`);
}

/**
 * ARGV: prefix, idempotency key (or ''), idempotency index, key expiry (ms since the epoch), key
 * TTL (ms), now, id, target, ordering key (or ''), provider, route, then field/value pairs of
 * the hash. Returns {'queued', id} or {'duplicate', holder id or ''}.
 */
export const ENQUEUE = script(
  'pactownDeliveryEnqueue',
  `
local idemKey, idemIndex, keyExpiry, keyTtl = ARGV[2], ARGV[3], ARGV[4], ARGV[5]
local now, id, target, orderKey = tonumber(ARGV[6]), ARGV[7], ARGV[8], ARGV[9]
local provider, route = ARGV[10], ARGV[11]
if idemKey ~= '' then
  local held = redis.call('GET', idemKey)
  if held then
    local sep = string.find(held, '|', 1, true)
    local heldUntil = sep and tonumber(string.sub(held, 1, sep - 1))
    -- A key written without an expiry time is held for as long as Redis keeps it.
    if not heldUntil or heldUntil > now then
      return {'duplicate', sep and string.sub(held, sep + 1) or ''}
    end
  end
  redis.call('SET', idemKey, keyExpiry .. '|' .. id, 'PX', keyTtl)
  redis.call('ZADD', idemIndex, keyExpiry, idemKey)
end
local seq = redis.call('INCR', P .. 'seq')
local member = string.format('%016d', seq) .. ':' .. id
local fields = {}
for i = 12, #ARGV do
  fields[#fields + 1] = ARGV[i]
end
redis.call('HSET', dkey(id), 'seq', seq, 'member', member, unpack(fields))
redis.call('ZADD', P .. 'all', seq, id)
redis.call('ZADD', P .. 'status:pending', seq, id)
redis.call('ZADD', P .. 'provider:' .. provider, seq, id)
redis.call('ZADD', P .. 'target:' .. target, seq, id)
redis.call('ZADD', P .. 'route:' .. route, seq, id)
if orderKey ~= '' then
  redis.call('ZADD', P .. 'order:' .. orderKey, seq, id)
end
schedule(id)
return {'queued', id}
`,
);

/**
 * ARGV: prefix, now, owner, stale ms, max targets. Requeues the deliveries of dead workers and
 * those whose lease ended, records this worker's heartbeat, and returns both counts followed by
 * the targets with due deliveries, earliest first, as target/count pairs.
 */
export const PREPARE_CLAIM = script(
  'pactownDeliveryPrepareClaim',
  `
local now = tonumber(ARGV[2])
local reaped = reapOwners(now, tonumber(ARGV[4]))
heartbeat(ARGV[3])
local expired = 0
for _, id in ipairs(redis.call('ZRANGEBYSCORE', P .. 'leases', '-inf', now, 'LIMIT', 0, 1000)) do
  expired = expired + requeue(id, now)
end
local out = {reaped, expired}
local targets = redis.call('ZRANGEBYSCORE', P .. 'targets', '-inf', now, 'LIMIT', 0, ARGV[5])
for _, target in ipairs(targets) do
  out[#out + 1] = target
  out[#out + 1] = redis.call('ZCOUNT', P .. 'due:' .. target, '-inf', now)
end
return out
`,
);

/**
 * ARGV: prefix, now, lease end, owner, then target/count pairs. Leases up to count due
 * deliveries of each target, earliest first, and returns their ids.
 */
export const LEASE = script(
  'pactownDeliveryLease',
  `
local now, leaseUntil, owner = ARGV[2], ARGV[3], ARGV[4]
local claimed = {}
for i = 5, #ARGV, 2 do
  local target = ARGV[i]
  local due = P .. 'due:' .. target
  local members = redis.call('ZRANGEBYSCORE', due, '-inf', now, 'LIMIT', 0, tonumber(ARGV[i + 1]))
  for _, member in ipairs(members) do
    redis.call('ZREM', due, member)
    local id = string.sub(member, 18)
    local f = redis.call('HMGET', dkey(id), 'seq', 'status')
    if f[1] then
      redis.call('HSET', dkey(id), 'status', 'in_flight', 'lease_until', leaseUntil,
        'owner', owner, 'updated_at', now)
      redis.call('ZADD', P .. 'leases', leaseUntil, id)
      redis.call('SADD', P .. 'held:' .. owner, id)
      moveStatus(id, f[2], 'in_flight', f[1])
      claimed[#claimed + 1] = id
    end
  end
  refreshTarget(target)
end
return claimed
`,
);

/**
 * ARGV: prefix, id, now, new status, next attempt time, dead reason, last status, last error,
 * attempt JSON. Empty strings stand for absent values. Returns 0 when the delivery is gone.
 */
export const COMPLETE = script(
  'pactownDeliveryComplete',
  `
local id, now, status = ARGV[2], ARGV[3], ARGV[4]
local f = redis.call('HMGET', dkey(id), 'status', 'owner', 'order_key', 'seq')
if not f[1] then
  return 0
end
local function setOrDelete(field, value)
  if value == '' then
    redis.call('HDEL', dkey(id), field)
  else
    redis.call('HSET', dkey(id), field, value)
  end
end
redis.call('RPUSH', P .. 'attempts:' .. id, ARGV[9])
unschedule(id)
redis.call('ZREM', P .. 'leases', id)
if f[2] then
  redis.call('SREM', P .. 'held:' .. f[2], id)
end
redis.call('HDEL', dkey(id), 'lease_until', 'owner')
redis.call('HINCRBY', dkey(id), 'attempts', 1)
redis.call('HSET', dkey(id), 'status', status, 'updated_at', now)
setOrDelete('dead_reason', ARGV[6])
setOrDelete('last_status', ARGV[7])
setOrDelete('last_error', ARGV[8])
moveStatus(id, f[1], status, f[4])
if status == 'pending' then
  redis.call('HINCRBY', dkey(id), 'retry_step', 1)
  redis.call('HSET', dkey(id), 'next_attempt_at', ARGV[5])
  redis.call('ZREM', P .. 'finished', id)
  if f[3] then
    redis.call('ZADD', P .. 'order:' .. f[3], f[4], id)
  end
  schedule(id)
  if f[3] then
    refreshOrder(f[3])
  end
else
  redis.call('HSET', dkey(id), 'next_attempt_at', 0)
  if status == 'delivered' then
    redis.call('HSET', dkey(id), 'delivered_at', now)
  end
  redis.call('ZADD', P .. 'finished', now, id)
  if f[3] then
    redis.call('ZREM', P .. 'order:' .. f[3], id)
    refreshOrder(f[3])
  end
end
return 1
`,
);

/**
 * ARGV: prefix, now, owner (or '' for any), ids. Returns in-flight deliveries to pending (with
 * an owner, only those it still holds); returns the count.
 */
export const RELEASE = script(
  'pactownDeliveryRelease',
  `
local owner = ARGV[3] ~= '' and ARGV[3] or nil
local count = 0
for i = 4, #ARGV do
  count = count + requeue(ARGV[i], ARGV[2], owner)
end
return count
`,
);

/**
 * ARGV: prefix, now, owner, stale ms. Returns to pending what this worker and dead workers
 * hold in flight; returns the count.
 */
export const RECOVER = script(
  'pactownDeliveryRecover',
  `
local now, owner = ARGV[2], ARGV[3]
local count = reapOwners(now, tonumber(ARGV[4]))
for _, id in ipairs(redis.call('SMEMBERS', P .. 'held:' .. owner)) do
  count = count + requeue(id, now, owner)
end
return count
`,
);

/** ARGV: prefix, owner. Records the worker's heartbeat on the Redis clock. */
export const HEARTBEAT = script(
  'pactownDeliveryHeartbeat',
  `
heartbeat(ARGV[2])
return 1
`,
);

/**
 * ARGV: prefix, id, now. Makes a delivery that is not in flight pending and due now, with a
 * fresh retry schedule and max-age window. Returns 1 when replayed.
 */
export const REPLAY = script(
  'pactownDeliveryReplay',
  `
local id, now = ARGV[2], ARGV[3]
local f = redis.call('HMGET', dkey(id), 'status', 'order_key', 'seq')
if not f[1] or f[1] == 'in_flight' then
  return 0
end
unschedule(id)
redis.call('HSET', dkey(id), 'status', 'pending', 'next_attempt_at', now, 'retry_step', 0,
  'window_start', now, 'updated_at', now)
redis.call('HDEL', dkey(id), 'dead_reason', 'lease_until')
moveStatus(id, f[1], 'pending', f[3])
redis.call('ZREM', P .. 'finished', id)
if f[2] then
  redis.call('ZADD', P .. 'order:' .. f[2], f[3], id)
end
schedule(id)
if f[2] then
  refreshOrder(f[2])
end
return 1
`,
);

/**
 * ARGV: prefix, cut-off time, offset, batch size, statuses. Deletes finished deliveries updated
 * before the cut-off whose status is listed, examining one batch from the offset. Returns
 * {deleted, skipped, examined}.
 */
export const PRUNE = script(
  'pactownDeliveryPrune',
  `
local ids = redis.call('ZRANGEBYSCORE', P .. 'finished', '-inf', '(' .. ARGV[2],
  'LIMIT', ARGV[3], ARGV[4])
local allowed = {}
for i = 5, #ARGV do
  allowed[ARGV[i]] = true
end
local deleted, skipped = 0, 0
for _, id in ipairs(ids) do
  local f = redis.call('HMGET', dkey(id), 'status', 'provider', 'target', 'route')
  if not f[1] then
    redis.call('ZREM', P .. 'finished', id)
  elseif allowed[f[1]] then
    redis.call('DEL', dkey(id), P .. 'attempts:' .. id)
    redis.call('ZREM', P .. 'finished', id)
    redis.call('ZREM', P .. 'all', id)
    redis.call('ZREM', P .. 'status:' .. f[1], id)
    redis.call('ZREM', P .. 'provider:' .. f[2], id)
    redis.call('ZREM', P .. 'target:' .. f[3], id)
    redis.call('ZREM', P .. 'route:' .. f[4], id)
    deleted = deleted + 1
  else
    skipped = skipped + 1
  end
end
return {deleted, skipped, #ids}
`,
);
