import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { RedisScript } from './redis-connection.js';

/** Takes the lock when it is free, or extends it when this token already holds it. */
const ACQUIRE = new RedisScript(
  'pactownLockAcquire',
  `
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  return 1
end
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
return 0
`,
);

/** Extends the lock only while this token holds it. */
const RENEW = new RedisScript(
  'pactownLockRenew',
  `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
`,
);

/** Deletes the lock only while this token holds it, so a late release never frees another's. */
const RELEASE = new RedisScript(
  'pactownLockRelease',
  `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
`,
);

/**
 * A lock in one Redis key with an expiry, held by a random token. While held it is renewed every
 * third of its TTL, so a holder that dies frees it within one TTL. It is a lease without fencing,
 * so a holder paused for longer than the TTL may still act once after another instance took over.
 */
export class RedisLock {
  readonly token = randomUUID();
  private timer?: NodeJS.Timeout;
  private renewedAt = 0;

  constructor(
    private readonly client: Redis,
    readonly key: string,
    readonly ttlMs: number,
  ) {}

  /** Takes the lock if it is free; resolves false when another token holds it. */
  async acquire(): Promise<boolean> {
    const taken = (await ACQUIRE.run(this.client, [this.key], [this.token, this.ttlMs])) === 1;
    if (taken) {
      this.renewedAt = Date.now();
    }
    return taken;
  }

  /** Extends the lock; resolves false when this token no longer holds it. */
  async renew(): Promise<boolean> {
    const renewed = (await RENEW.run(this.client, [this.key], [this.token, this.ttlMs])) === 1;
    if (renewed) {
      this.renewedAt = Date.now();
    }
    return renewed;
  }

  /**
   * Renews the lock every third of its TTL until {@link release}. Calls `onLost` once, with the
   * reason, when another token holds it or when no renewal succeeded for a whole TTL.
   */
  hold(onLost: (reason: string) => void): void {
    clearInterval(this.timer);
    const lost = (reason: string) => {
      clearInterval(this.timer);
      this.timer = undefined;
      onLost(reason);
    };
    this.timer = setInterval(
      async () => {
        try {
          if (!(await this.renew())) {
            lost('the lock expired or another instance holds it');
          }
        } catch (error) {
          if (Date.now() - this.renewedAt >= this.ttlMs) {
            lost(`renewing the lock failed for ${this.ttlMs} ms: ${(error as Error).message}`);
          }
        }
      },
      Math.max(1, Math.floor(this.ttlMs / 3)),
    );
    this.timer.unref();
  }

  /** Stops renewing and frees the lock if this token still holds it. */
  async release(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await RELEASE.run(this.client, [this.key], [this.token]);
  }
}
