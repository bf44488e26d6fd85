import type { CursorStore } from '../delivery/store.js';
import type { RedisLease } from './redis-connection.js';

/** Event-source cursors in one Redis hash, so whichever instance polls next reads them. */
export class RedisCursorStore implements CursorStore {
  private readonly key: string;

  constructor(private readonly lease: RedisLease) {
    this.key = `${lease.settings.keyPrefix}cursors`;
  }

  async get(key: string): Promise<string | undefined> {
    return (await this.lease.client.hget(this.key, key)) ?? undefined;
  }

  async set(key: string, value: string): Promise<void> {
    await this.lease.client.hset(this.key, key, value);
  }

  async delete(key: string): Promise<void> {
    await this.lease.client.hdel(this.key, key);
  }

  async close(): Promise<void> {
    await this.lease.release();
  }
}
