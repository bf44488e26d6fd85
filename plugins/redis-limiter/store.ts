import { type LimiterStore, type RedisLease, RedisScript } from '../../core/index.js';

/**
 * One hit in one atomic step: INCR, and PEXPIRE when the INCR created the key, so the first
 * hit starts the window and every instance sharing the Redis counts into the same one. A new
 * window is also indexed by its end time, so `size` counts live windows without a scan. This is
 * the scheme of @fastify/rate-limit's own RedisStore, on the core limiter interface.
 */
const INCR = new RedisScript(
  'pactownLimiterIncr',
  `
local current = redis.call('INCR', KEYS[1])
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then
  ttl = tonumber(ARGV[1])
  redis.call('PEXPIRE', KEYS[1], ttl)
  redis.call('ZADD', KEYS[2], tonumber(ARGV[2]) + ttl, KEYS[1])
  redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', ARGV[2])
elseif ttl == 0 then
  ttl = 1
end
return {current, ttl}
`,
);

/** Fixed-window counters in Redis, shared by every gateway instance with the same key prefix. */
export class RedisLimiterStore implements LimiterStore {
  private readonly prefix: string;
  private readonly index: string;

  constructor(
    private readonly lease: RedisLease,
    private readonly now: () => number = Date.now,
  ) {
    this.prefix = `${lease.settings.keyPrefix}limit:`;
    this.index = `${lease.settings.keyPrefix}limit-windows`;
  }

  async incr(key: string, windowMs: number): Promise<{ current: number; ttl: number }> {
    const [current, ttl] = (await INCR.run(
      this.lease.client,
      [this.prefix + key, this.index],
      [Math.max(1, Math.round(windowMs)), this.now()],
    )) as [number, number];
    return { current, ttl };
  }

  /** Windows not yet ended, counted from their recorded end times. */
  async size(): Promise<number> {
    return this.lease.client.zcount(this.index, `(${this.now()}`, '+inf');
  }

  async close(): Promise<void> {
    await this.lease.release();
  }
}
