import type {
  EventSource,
  FastifyBaseLogger,
  SourceEvent,
  SourceStateStore,
} from '../../core/index.js';
import { AllegroApiError, type AllegroClient } from './client.js';

/** One event journal of the Allegro API. */
export interface Journal {
  /** Short name, the prefix of its cursor key and the `X-Allegro-Journal` header. */
  name: 'order' | 'offer';
  path: string;
  /** Key of the event list in the response body. */
  listKey: string;
  /** Endpoint that returns the latest event id, where the journal has one. */
  statsPath?: string;
  types?: string[];
}

export const ORDER_JOURNAL: Omit<Journal, 'types'> = {
  name: 'order',
  path: '/order/events',
  listKey: 'events',
  statsPath: '/order/event-stats',
};

export const OFFER_JOURNAL: Omit<Journal, 'types'> = {
  name: 'offer',
  path: '/sale/offer-events',
  listKey: 'offerEvents',
};

/** Settings of {@link JournalPoller}, in milliseconds where they are durations. */
export interface PollerSettings {
  journals: Journal[];
  limit: number;
  intervalMs: number;
  start: 'latest' | 'oldest';
  backoffInitialMs: number;
  backoffMaxMs: number;
  rateLimitPauseMs: number;
}

interface JournalEvent {
  id?: unknown;
  type?: unknown;
  [key: string]: unknown;
}

/**
 * Statuses taken to mean that `from` names an event no longer in the journal (60 days for
 * orders, 24 hours for offers).
 * NOTE: Allegro documents the retention but not the status it returns for such a cursor, so
 * every client error other than 401, 403 and 429 on a request with `from` counts.
 */
const EXPIRED_CURSOR_STATUSES = new Set([400, 404, 410, 422]);

/**
 * Polls Allegro's event journals. Each batch is handed to `emit`, and the cursor, the id of the
 * batch's last event, is saved only after `emit` resolved, so a crash or a failed enqueue
 * repeats the batch instead of skipping it. Repeated events are dropped downstream by
 * de-duplication on the event id.
 */
export class JournalPoller implements EventSource {
  private stopping = false;
  private loop?: Promise<void>;
  private wakeSleeper?: () => void;
  private failures = 0;

  constructor(
    private readonly client: AllegroClient,
    private readonly settings: PollerSettings,
    private readonly state: SourceStateStore,
    private readonly log: FastifyBaseLogger,
  ) {}

  async start(emit: (events: SourceEvent[]) => Promise<void>): Promise<void> {
    this.loop = this.run(emit);
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.wakeSleeper?.();
    await this.client.close();
    await this.loop;
  }

  /** Polls every journal once; resolves true when a full batch suggests more is waiting. */
  async pollOnce(emit: (events: SourceEvent[]) => Promise<void>): Promise<boolean> {
    let more = false;
    for (const journal of this.settings.journals) {
      more = (await this.pollJournal(journal, emit)) || more;
    }
    return more;
  }

  private async run(emit: (events: SourceEvent[]) => Promise<void>): Promise<void> {
    while (!this.stopping) {
      let wait: number;
      try {
        const more = await this.pollOnce(emit);
        this.failures = 0;
        wait = more ? 0 : this.settings.intervalMs;
      } catch (error) {
        if (this.stopping) {
          return;
        }
        wait = this.backoff(error as Error);
      }
      await this.sleep(wait);
    }
  }

  private async pollJournal(
    journal: Journal,
    emit: (events: SourceEvent[]) => Promise<void>,
  ): Promise<boolean> {
    const key = `${journal.name}:cursor`;
    let cursor = await this.state.get(key);
    if (cursor === undefined && journal.statsPath && this.settings.start === 'latest') {
      cursor = await this.seed(journal, key);
    }
    let body: Record<string, unknown>;
    try {
      body = (await this.client.get(journal.path, {
        from: cursor,
        limit: String(this.settings.limit),
        type: journal.types,
      })) as Record<string, unknown>;
    } catch (error) {
      if (cursor !== undefined && isExpiredCursor(error)) {
        await this.reseed(journal, key, cursor, error as AllegroApiError);
        return true;
      }
      throw error;
    }
    const events = (body[journal.listKey] ?? []) as JournalEvent[];
    if (events.length === 0) {
      return false;
    }
    await emit(events.map((event) => toSourceEvent(journal, event)));
    const last = String(events[events.length - 1].id);
    await this.state.set(key, last);
    this.log.debug(
      { journal: journal.name, events: events.length, cursor: last },
      'queued a batch',
    );
    return events.length >= this.settings.limit;
  }

  /** Sets the cursor to the latest event, or leaves it unset when the journal is empty. */
  private async seed(journal: Journal, key: string): Promise<string | undefined> {
    const stats = (await this.client.get(journal.statsPath!, {})) as {
      latestEvent?: { id?: string; occurredAt?: string };
    };
    const latest = stats.latestEvent?.id;
    if (latest !== undefined) {
      await this.state.set(key, String(latest));
    }
    this.log.info(
      { journal: journal.name, cursor: latest, occurred_at: stats.latestEvent?.occurredAt },
      'seeded the journal cursor from the latest event',
    );
    return latest === undefined ? undefined : String(latest);
  }

  private async reseed(journal: Journal, key: string, stale: string, error: AllegroApiError) {
    // Events between the stale cursor and the latest one are skipped: the journal no longer
    // contains the position, and reading it all again would re-send up to 60 days of events.
    await this.state.delete(key);
    const fresh = journal.statsPath ? await this.seed(journal, key) : undefined;
    this.log.warn(
      { journal: journal.name, stale_cursor: stale, cursor: fresh, status: error.status },
      'the journal cursor fell out of retention, re-seeded it; events in between were not read',
    );
  }

  private backoff(error: Error): number {
    this.failures += 1;
    const status = error instanceof AllegroApiError ? error.status : undefined;
    let wait: number;
    if (status === 429) {
      wait = (error as AllegroApiError).retryAfterMs ?? this.settings.rateLimitPauseMs;
    } else {
      const grown = this.settings.backoffInitialMs * 2 ** (this.failures - 1);
      wait = Math.min(grown, this.settings.backoffMaxMs);
    }
    this.log.warn(
      { err: error, status, failures: this.failures, retry_in_ms: wait },
      'polling the allegro journal failed, backing off',
    );
    return wait;
  }

  private sleep(ms: number): Promise<void> {
    if (ms <= 0 || this.stopping) {
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wakeSleeper = done;
    });
  }
}

function isExpiredCursor(error: unknown): boolean {
  return error instanceof AllegroApiError && EXPIRED_CURSOR_STATUSES.has(error.status);
}

function toSourceEvent(journal: Journal, event: JournalEvent): SourceEvent {
  const id = String(event.id);
  const type = String(event.type ?? 'UNKNOWN');
  return {
    id,
    type,
    body: Buffer.from(JSON.stringify(event)),
    headers: {
      'content-type': 'application/json',
      'x-allegro-journal': journal.name,
      'x-allegro-event-id': id,
      'x-allegro-event-type': type,
    },
  };
}
