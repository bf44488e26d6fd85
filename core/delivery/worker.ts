import type { FastifyBaseLogger } from 'fastify';
import { Agent, type Dispatcher } from 'undici';
import { type AttemptResult, sendAttempt } from './attempt.js';
import { type RetryPolicy, retryDelay } from './schedule.js';
import type { AttemptResolution, Delivery, DeliveryAttempt, DeliveryStore } from './store.js';

/** Attempt settings of one route. */
export interface RouteDeliverySettings {
  retry: RetryPolicy;
  /** Milliseconds the target has to respond to one attempt. */
  timeoutMs: number;
  /** Key of `X-Pactown-Signature`; no signature without one. */
  signingSecret?: string;
}

/** Options of {@link DeliveryWorker}. */
export interface WorkerOptions {
  store: DeliveryStore;
  log: FastifyBaseLogger;
  /** Settings of the route that queued a delivery; routes removed from the config get defaults. */
  settingsFor(delivery: Delivery): RouteDeliverySettings;
  /** Maximum attempts in flight in total. */
  concurrency: number;
  /** Maximum attempts in flight to one target, so a slow target cannot take every slot. */
  targetConcurrency: number;
  /** Milliseconds between looks at the store when nothing is due, to see replays by the CLI. */
  pollIntervalMs: number;
  /** Milliseconds a claim stays valid before another worker may take the delivery. */
  leaseMs: number;
  now?: () => number;
  random?: () => number;
  dispatcher?: Dispatcher;
  /** Called after each attempt, for counters. */
  onAttempt?(delivery: Delivery, resolution: AttemptResolution): void;
}

/** Minimum milliseconds between two warnings about the same target. */
const WARN_INTERVAL_MS = 60_000;

/**
 * Delivers queued events to their targets with retries. Each target has its own slots, so a
 * target that is down or slow delays only its own deliveries.
 */
export class DeliveryWorker {
  private readonly now: () => number;
  private readonly dispatcher: Dispatcher;
  private readonly ownsDispatcher: boolean;
  private readonly inFlight = new Map<string, { target: string; controller: AbortController }>();
  private readonly tasks = new Set<Promise<void>>();
  private readonly perTarget = new Map<string, number>();
  private readonly warnings = new Map<string, { at: number; suppressed: number }>();
  private timer?: NodeJS.Timeout;
  private running = false;
  private passing = false;
  private passAgain = false;
  private dispatcherClosed = false;

  constructor(private readonly options: WorkerOptions) {
    this.now = options.now ?? Date.now;
    this.ownsDispatcher = options.dispatcher === undefined;
    this.dispatcher =
      options.dispatcher ??
      new Agent({ connections: options.targetConcurrency, keepAliveTimeout: 30_000 });
  }

  /** Returns deliveries left in flight by a crash to the queue, then starts delivering. */
  async start(): Promise<void> {
    const recovered = await this.options.store.recover(this.now());
    if (recovered > 0) {
      this.options.log.warn({ recovered }, 'returned deliveries left in flight to the queue');
    }
    this.running = true;
    this.wake();
  }

  /** Looks for due deliveries at once, as after an enqueue. */
  wake(): void {
    if (!this.running) {
      return;
    }
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.loop(), 0);
  }

  /**
   * Claims the due deliveries that fit the free slots and starts their attempts. Returns the
   * number started; {@link idle} waits for them. Tests call it directly with a fake clock.
   */
  async runDue(): Promise<number> {
    const free = this.options.concurrency - this.inFlight.size;
    if (free <= 0) {
      return 0;
    }
    const claimed = await this.options.store.claim({
      now: this.now(),
      leaseMs: this.options.leaseMs,
      limit: free,
      freeSlots: (target) => this.options.targetConcurrency - (this.perTarget.get(target) ?? 0),
    });
    for (const delivery of claimed) {
      this.track(delivery);
    }
    return claimed.length;
  }

  /** Resolves when no attempt is in flight. */
  async idle(): Promise<void> {
    while (this.tasks.size > 0) {
      await Promise.allSettled([...this.tasks]);
    }
  }

  /**
   * Stops claiming work and waits up to `graceMs` for attempts in flight. Attempts still running
   * then are aborted and returned to the queue, so none is lost or counted as failed.
   */
  async stop(graceMs: number): Promise<void> {
    this.running = false;
    clearTimeout(this.timer);
    const grace = new Promise<void>((resolve) => setTimeout(resolve, graceMs).unref());
    await Promise.race([this.idle(), grace]);
    for (const { controller } of this.inFlight.values()) {
      controller.abort();
    }
    await this.idle();
    if (this.ownsDispatcher && !this.dispatcherClosed) {
      this.dispatcherClosed = true;
      await this.dispatcher.close();
    }
  }

  private async loop(): Promise<void> {
    if (this.passing) {
      this.passAgain = true;
      return;
    }
    this.passing = true;
    try {
      let started = 0;
      do {
        this.passAgain = false;
        started = await this.runDue();
      } while (this.passAgain && this.running);
      await this.scheduleNext(started > 0);
    } catch (error) {
      this.warnOnce('store', { err: error }, 'delivery store failed, retrying shortly');
      this.schedule(this.options.pollIntervalMs);
    } finally {
      this.passing = false;
    }
  }

  /**
   * Waits until the next delivery is due, at most `pollIntervalMs`. A due delivery that the last
   * pass could not claim waits for a free slot of its target. The end of an attempt wakes the
   * worker and the poll interval bounds the wait, so a full target costs no claim per tick.
   */
  private async scheduleNext(progressed: boolean): Promise<void> {
    const due = await this.options.store.nextDueAt();
    let wait = due === undefined ? this.options.pollIntervalMs : due - this.now();
    if (wait <= 0 && !progressed) {
      wait = this.options.pollIntervalMs;
    }
    this.schedule(Math.max(0, Math.min(wait, this.options.pollIntervalMs)));
  }

  private schedule(ms: number): void {
    if (!this.running) {
      return;
    }
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.loop(), ms);
  }

  private track(delivery: Delivery): void {
    const controller = new AbortController();
    this.inFlight.set(delivery.id, { target: delivery.target, controller });
    this.perTarget.set(delivery.target, (this.perTarget.get(delivery.target) ?? 0) + 1);
    const task = this.attempt(delivery, controller.signal)
      .catch((error) => {
        this.warnOnce(
          'store',
          { err: error, delivery: delivery.id },
          'recording an attempt failed',
        );
      })
      .finally(() => {
        this.inFlight.delete(delivery.id);
        const left = (this.perTarget.get(delivery.target) ?? 1) - 1;
        if (left > 0) {
          this.perTarget.set(delivery.target, left);
        } else {
          this.perTarget.delete(delivery.target);
        }
        this.tasks.delete(task);
        this.wake();
      });
    this.tasks.add(task);
  }

  private async attempt(delivery: Delivery, signal: AbortSignal): Promise<void> {
    const settings = this.options.settingsFor(delivery);
    const startedAt = this.now();
    const result = await sendAttempt(delivery, {
      dispatcher: this.dispatcher,
      timeoutMs: settings.timeoutMs,
      signingSecret: settings.signingSecret,
      signal,
      now: this.now,
    });
    if (signal.aborted) {
      await this.options.store.release([delivery.id], this.now());
      this.options.log.info({ delivery: delivery.id }, 'returned an aborted attempt to the queue');
      return;
    }
    const attempt: DeliveryAttempt = {
      number: delivery.attempts + 1,
      startedAt,
      finishedAt: this.now(),
      statusCode: result.statusCode,
      error: result.error,
      responseExcerpt: result.responseExcerpt,
    };
    const resolution = this.resolve(delivery, result, settings.retry, attempt.finishedAt);
    await this.options.store.complete(delivery.id, attempt, resolution);
    this.options.onAttempt?.(delivery, resolution);
    this.report(delivery, attempt, resolution);
  }

  /** Decides what follows an attempt: delivered, another try, or a dead letter. */
  private resolve(
    delivery: Delivery,
    result: AttemptResult,
    policy: RetryPolicy,
    now: number,
  ): AttemptResolution {
    const status = result.statusCode;
    if (status !== undefined && status >= 200 && status < 300) {
      return { status: 'delivered' };
    }
    if (status === 410) {
      return { status: 'dead', reason: 'target answered 410 Gone' };
    }
    const delay = retryDelay(policy, delivery.retryStep, result.retryAfterMs, this.options.random);
    if (delay === undefined) {
      return {
        status: 'dead',
        reason: `retry schedule used up after ${delivery.retryStep + 1} attempts`,
      };
    }
    const next = now + delay;
    if (next > delivery.windowStart + delivery.maxAgeMs) {
      return { status: 'dead', reason: `max age of ${delivery.maxAgeMs} ms reached` };
    }
    return { status: 'pending', nextAttemptAt: next };
  }

  private report(
    delivery: Delivery,
    attempt: DeliveryAttempt,
    resolution: AttemptResolution,
  ): void {
    const fields = {
      delivery: delivery.id,
      route: delivery.route,
      target: delivery.target,
      attempt: attempt.number,
      status: attempt.statusCode,
      error: attempt.error,
    };
    if (resolution.status === 'delivered') {
      this.options.log.debug(fields, 'delivered');
    } else if (resolution.status === 'dead') {
      this.warnOnce(
        `dead ${delivery.target}`,
        { ...fields, reason: resolution.reason },
        'delivery dead-lettered',
      );
    } else {
      this.warnOnce(
        `retry ${delivery.target}`,
        { ...fields, next_attempt_at: new Date(resolution.nextAttemptAt).toISOString() },
        'delivery attempt failed, will retry',
      );
    }
  }

  /** Warns at most once a minute per key, counting the warnings left out in between. */
  private warnOnce(key: string, fields: Record<string, unknown>, message: string): void {
    const now = this.now();
    const last = this.warnings.get(key);
    if (last && now - last.at < WARN_INTERVAL_MS) {
      last.suppressed += 1;
      this.options.log.debug(fields, message);
      return;
    }
    this.warnings.set(key, { at: now, suppressed: 0 });
    const suppressed = last?.suppressed ? { suppressed: last.suppressed } : {};
    this.options.log.warn({ ...fields, ...suppressed }, message);
  }
}
