import type { RouteConfig } from '../config/types.js';
import { parseDuration } from '../config/units.js';
import type { VerifiedEvent } from './delivery.js';
import { DEFAULT_DEDUPE_WINDOW_MS } from './settings.js';

/**
 * Returns the idempotency-store key of an event, or `undefined` without an event id. It is scoped to the provider and the route, so two routes
 * of one provider (two Stripe accounts) never suppress each other's events.
 */
export function dedupeKey(event: VerifiedEvent): string | undefined {
  if (event.eventId === undefined) {
    return undefined;
  }
  return `webhook:${event.provider}:${event.route}:${event.eventId}`;
}

/** Milliseconds an event id is remembered on a route: `dedupe_window:`, else 72 h. */
export function dedupeWindowMs(route: RouteConfig): number {
  const value = route.raw.dedupe_window as number | string | undefined;
  return value === undefined ? DEFAULT_DEDUPE_WINDOW_MS : parseDuration(value);
}
