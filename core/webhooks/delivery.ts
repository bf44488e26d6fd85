import type { FastifyBaseLogger } from 'fastify';
import type { GatewayConfig, RouteConfig } from '../config/types.js';
import type { GatewayStores, JsonSchema } from '../plugin-api.js';
import type { GatewayStats } from '../server/stats.js';

/** A webhook event whose signature was verified (or an event an event source produced). */
export interface VerifiedEvent {
  /** Provider plugin name, such as `stripe`. */
  provider: string;
  /** Path of the route that received it, as written in the config. */
  route: string;
  /** The provider's event id, the de-duplication key; absent when the provider sends none. */
  eventId?: string;
  eventType?: string;
  /** The body exactly as received. */
  body: Buffer;
  /** Request headers as received, lower-case names. */
  headers: Record<string, string | string[] | undefined>;
  /** Milliseconds since the epoch when the gateway received it. */
  receivedAt: number;
  /** Target URL of the event, absent when the route has no target. */
  target?: string;
}

/** The response sent to the provider after a delivery mode accepted (or rejected) an event. */
export interface DeliveryOutcome {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

/** Services that the gateway gives a delivery mode. */
export interface DeliveryContext {
  config: GatewayConfig;
  route: RouteConfig;
  stores: GatewayStores;
  stats: GatewayStats;
  log: FastifyBaseLogger;
  /** Runs `task` when the gateway closes. */
  onClose(task: () => Promise<void> | void): void;
}

/**
 * How a webhook route hands on verified events: `sync` forwards at once and answers with the
 * target's status; `queue` stores the event and answers 202 for a worker to deliver. A mode owns
 * de-duplication on `eventId`, so that checking for a duplicate and accepting the event can be
 * one atomic step in a durable store.
 */
export interface DeliveryMode {
  name: string;
  /** JSON Schema of route keys this mode adds (a queue's `order`, a signing secret). */
  routeProperties?: Record<string, JsonSchema>;
  /** Prepares the mode for one route; the returned function accepts that route's events. */
  prepare(context: DeliveryContext): Promise<(event: VerifiedEvent) => Promise<DeliveryOutcome>>;
}
