import type { FastifyBaseLogger } from 'fastify';
import type { EventSource, SourceEvent } from '../plugin-api.js';

/** A lock with expiry that one gateway instance holds while it polls an event source. */
export interface SourceLock {
  readonly key: string;
  readonly ttlMs: number;
  /** Takes the lock if it is free. Resolves false when another instance holds it. */
  acquire(): Promise<boolean>;
  /** Renews the lock until released. Calls `onLost` once when it may no longer hold it. */
  hold(onLost: (reason: string) => void): void;
  release(): Promise<void>;
}

type Emit = (events: SourceEvent[]) => Promise<void>;

/**
 * Wraps an event source so that, of the gateway instances configured with it, only the one
 * holding its lock polls. The others try to take the lock every third of its TTL. A source is
 * created anew each time the lock is taken, because a stopped poller may not start again. When
 * the lock is lost the source is stopped. Until its poll in progress ends, two instances may
 * poll at once, and de-duplication on the event id drops what both queue.
 */
export function exclusiveSource(
  create: () => EventSource | Promise<EventSource>,
  lock: SourceLock,
  log: FastifyBaseLogger,
): EventSource {
  return new ExclusiveSource(create, lock, log);
}

class ExclusiveSource implements EventSource {
  private stopping = false;
  private loop?: Promise<void>;
  private readonly stopped: Promise<void>;
  private signalStop!: () => void;
  private readonly sleepers = new Set<() => void>();
  private waitingLogged = false;
  private lastFailureLog = 0;
  private readonly retryMs: number;

  constructor(
    private readonly create: () => EventSource | Promise<EventSource>,
    private readonly lock: SourceLock,
    private readonly log: FastifyBaseLogger,
  ) {
    this.stopped = new Promise((resolve) => {
      this.signalStop = resolve;
    });
    this.retryMs = Math.max(1, Math.floor(lock.ttlMs / 3));
  }

  async start(emit: Emit): Promise<void> {
    this.loop = this.run(emit);
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.signalStop();
    for (const wake of this.sleepers) {
      wake();
    }
    await this.loop;
  }

  private async run(emit: Emit): Promise<void> {
    while (!this.stopping) {
      if (await this.tryAcquire()) {
        await this.pollWhileHeld(emit);
      } else {
        await this.pause(this.retryMs);
      }
    }
  }

  private async tryAcquire(): Promise<boolean> {
    try {
      const taken = await this.lock.acquire();
      if (!taken && !this.waitingLogged) {
        this.waitingLogged = true;
        this.log.info({ lock: this.lock.key }, 'another instance holds the source lock and polls');
      }
      return taken;
    } catch (error) {
      this.logFailure(error, 'taking the source lock failed, retrying');
      return false;
    }
  }

  private async pollWhileHeld(emit: Emit): Promise<void> {
    this.waitingLogged = false;
    let source: EventSource;
    try {
      source = await this.create();
      await source.start(emit);
    } catch (error) {
      this.logFailure(error, 'starting the event source failed, retrying');
      await this.releaseLock();
      await this.pause(this.retryMs);
      return;
    }
    this.log.info({ lock: this.lock.key }, 'took the source lock; polling on this instance');
    const lost = new Promise<string>((resolve) => this.lock.hold(resolve));
    const reason = await Promise.race([lost, this.stopped.then(() => undefined)]);
    await source.stop();
    if (reason === undefined) {
      await this.releaseLock();
      return;
    }
    this.log.warn({ lock: this.lock.key, reason }, 'lost the source lock; stopped polling');
  }

  private async releaseLock(): Promise<void> {
    try {
      await this.lock.release();
    } catch (error) {
      // The lock expires by itself within its TTL.
      this.logFailure(error, 'releasing the source lock failed');
    }
  }

  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        this.sleepers.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      this.sleepers.add(wake);
    });
  }

  /** Logs at most once a minute, because a Redis outage fails every retry the same way. */
  private logFailure(error: unknown, message: string): void {
    const now = Date.now();
    if (now - this.lastFailureLog < 60_000) {
      return;
    }
    this.lastFailureLog = now;
    this.log.error({ err: error, lock: this.lock.key }, message);
  }
}
