/**
 * Store interfaces of queued delivery. SQLite is the embedded implementation; a distributed one
 * must pass the same suite (test/stores/delivery-store-suite.ts).
 */

/** State of a delivery. */
export type DeliveryStatus = 'pending' | 'in_flight' | 'delivered' | 'dead';

export const DELIVERY_STATUSES: readonly DeliveryStatus[] = [
  'pending',
  'in_flight',
  'delivered',
  'dead',
];

/** A verified event to be delivered to its target. */
export interface NewDelivery {
  /** Stable id, sent to the target as `X-Pactown-Delivery-Id` on every attempt. */
  id: string;
  /** Path of the route (or name of the event source) that accepted the event. */
  route: string;
  provider: string;
  eventId?: string;
  eventType?: string;
  target: string;
  /** The body exactly as received. */
  body: Buffer;
  /** Headers as received, lower-case names. */
  headers: Record<string, string | string[]>;
  /** Milliseconds since the epoch when the gateway received the event. */
  receivedAt: number;
  /**
   * Ordering key. Deliveries that share one are attempted one at a time, in enqueue order, so a
   * failing delivery holds back the ones queued after it.
   */
  orderKey?: string;
  /** Milliseconds after enqueue (or replay) past which a failed delivery is dead-lettered. */
  maxAgeMs: number;
}

/** A de-duplication claim made in the same atomic step as the enqueue. */
export interface DedupeClaim {
  key: string;
  ttlMs: number;
}

export type EnqueueResult =
  | { status: 'queued'; id: string }
  /** The key was claimed earlier; `id` names the delivery that claimed it, when known. */
  | { status: 'duplicate'; id?: string };

/** A stored delivery with its state. */
export interface Delivery extends NewDelivery {
  status: DeliveryStatus;
  /** Attempts made in total, replays included. */
  attempts: number;
  /** Failed attempts since enqueue or the last replay: the position in the retry schedule. */
  retryStep: number;
  /** Milliseconds since the epoch when the next attempt is due (pending deliveries). */
  nextAttemptAt: number;
  /** Start of the current max-age window: the enqueue time, or the last replay. */
  windowStart: number;
  updatedAt: number;
  deliveredAt?: number;
  /** HTTP status of the last attempt, when the target responded. */
  lastStatus?: number;
  lastError?: string;
  /** Reason the delivery was dead-lettered. */
  deadReason?: string;
}

/** One HTTP attempt to deliver. */
export interface DeliveryAttempt {
  /** 1 for the first attempt; numbering continues across replays. */
  number: number;
  startedAt: number;
  finishedAt: number;
  /** HTTP status of the target's response; absent on a network error or timeout. */
  statusCode?: number;
  error?: string;
  /** The first bytes of the response body, as text, for diagnosis. */
  responseExcerpt?: string;
}

/** State a delivery moves to after an attempt. */
export type AttemptResolution =
  | { status: 'delivered' }
  | { status: 'pending'; nextAttemptAt: number }
  | { status: 'dead'; reason: string };

/** Filters of the admin API and CLI; `since` and `until` bound the receive time, in ms. */
export interface DeliveryFilter {
  status?: DeliveryStatus;
  provider?: string;
  target?: string;
  route?: string;
  since?: number;
  until?: number;
}

export interface DeliveryPage {
  /** Newest first. */
  deliveries: Delivery[];
  /** Opaque cursor of the next page; absent on the last page. */
  nextCursor?: string;
}

/** A worker's request for due deliveries that fit its free slots. */
export interface ClaimRequest {
  now: number;
  /** Milliseconds a claim stays valid; an expired lease returns the delivery to `pending`. */
  leaseMs: number;
  /** Maximum deliveries to claim in total. */
  limit: number;
  /** Free slots the worker has for `target`; a target with none is skipped. */
  freeSlots(target: string): number;
}

/** Durable inbox, delivery queue and dead letters. */
export interface DeliveryStore {
  /**
   * Stores `delivery` as pending and due now. With `dedupe`, the key is claimed in the same
   * atomic step, and a key still held means nothing is stored (`duplicate`).
   */
  enqueue(delivery: NewDelivery, dedupe?: DedupeClaim): Promise<EnqueueResult>;
  /**
   * Moves due pending deliveries to `in_flight` and returns them. Within one ordering key only
   * the oldest unfinished delivery is eligible. Deliveries whose lease expired count as pending.
   */
  claim(request: ClaimRequest): Promise<Delivery[]>;
  /** Records an attempt of a claimed delivery and moves it to its next state, atomically. */
  complete(id: string, attempt: DeliveryAttempt, resolution: AttemptResolution): Promise<void>;
  /** Returns claimed deliveries to `pending` without recording an attempt (shutdown). */
  release(ids: string[], now: number): Promise<void>;
  /** Returns every `in_flight` delivery to `pending`, for start-up after a crash. */
  recover(now: number): Promise<number>;
  /** Milliseconds since the epoch when the earliest pending delivery is due, if any. */
  nextDueAt(): Promise<number | undefined>;
  get(id: string): Promise<Delivery | undefined>;
  attempts(id: string): Promise<DeliveryAttempt[]>;
  list(filter: DeliveryFilter, page: { limit: number; cursor?: string }): Promise<DeliveryPage>;
  /**
   * Makes a delivery pending and due at `now`, with a fresh retry schedule and max-age window.
   * Returns false when it does not exist or is in flight.
   */
  replay(id: string, now: number): Promise<boolean>;
  /** Replays every delivery that matches `filter` and is not in flight; returns the count. */
  replayMatching(filter: DeliveryFilter, now: number): Promise<number>;
  /** Deletes deliveries finished (delivered or dead) before `before`; returns the count. */
  prune(before: number, statuses: DeliveryStatus[]): Promise<number>;
  counts(): Promise<Record<DeliveryStatus, number>>;
  close(): Promise<void>;
}

/** Durable positions of event sources, and other small state they keep across restarts. */
export interface CursorStore {
  get(key: string): Promise<string | undefined>;
  set(key: string, value: string): Promise<void>;
  delete(key: string): Promise<void>;
  close?(): Promise<void>;
}
