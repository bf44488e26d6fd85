import {
  definePlugin,
  type EventSourceContext,
  PLUGIN_API_VERSION,
  parseDuration,
} from '../../core/index.js';
import { AllegroClient } from './client.js';
import { type Journal, JournalPoller, OFFER_JOURNAL, ORDER_JOURNAL } from './poller.js';
import {
  ALLEGRO_ENVIRONMENTS,
  type AllegroJournalOptions,
  allegroJournalOptionsSchema,
} from './schema.js';

/** Builds the poller of one `sources:` entry from its options. */
export function createAllegroSource(options: AllegroJournalOptions, context: EventSourceContext) {
  const environment = ALLEGRO_ENVIRONMENTS[options.environment ?? 'production'];
  const ms = (value: number | string) => parseDuration(value);
  const client = new AllegroClient({
    apiUrl: options.api_url ?? environment.api,
    authUrl: options.auth_url ?? environment.auth,
    clientId: options.client_id,
    clientSecret: options.client_secret,
    refreshToken: options.refresh_token,
    timeoutMs: ms(options.request_timeout),
    state: context.state,
    log: context.log,
  });
  const journals: Journal[] = [{ ...ORDER_JOURNAL, types: options.types }];
  if (options.offer_events) {
    journals.push({ ...OFFER_JOURNAL, types: options.offer_types });
  }
  return new JournalPoller(
    client,
    {
      journals,
      limit: options.limit,
      intervalMs: ms(options.interval),
      start: options.start,
      backoffInitialMs: ms(options.backoff_initial),
      backoffMaxMs: ms(options.backoff_max),
      rateLimitPauseMs: ms(options.rate_limit_pause),
    },
    context.state,
    context.log,
  );
}

/**
 * The `allegro` event source: polls `GET /order/events` (and, with `offer_events`,
 * `GET /sale/offer-events`), because Allegro sends no webhooks.
 */
export default definePlugin({
  name: 'allegro',
  kind: 'event-source',
  apiVersion: PLUGIN_API_VERSION,
  description: 'polls the Allegro order (and offer) event journals',
  optionsSchema: allegroJournalOptionsSchema,
  create: (options: AllegroJournalOptions, context) => createAllegroSource(options, context),
});
