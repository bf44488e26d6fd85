import { durationSchema, type JsonSchema } from '../../core/index.js';

/** Order event types of `GET /order/events`. */
export const ORDER_EVENT_TYPES = [
  'BOUGHT',
  'FILLED_IN',
  'READY_FOR_PROCESSING',
  'BUYER_CANCELLED',
  'FULFILLMENT_STATUS_CHANGED',
  'AUTO_CANCELLED',
  'BUYER_MODIFIED',
];

/** Options of the `allegro` event source, as written under `sources[].options`. */
export const allegroJournalOptionsSchema: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['client_id', 'client_secret'],
  properties: {
    environment: { enum: ['production', 'sandbox'], default: 'production' },
    api_url: {
      type: 'string',
      pattern: '^https?://[^\\s?#]+$',
      'x-expected': 'the REST API base URL, such as https://api.allegro.pl',
    },
    auth_url: {
      type: 'string',
      pattern: '^https?://[^\\s?#]+$',
      'x-expected': 'the OAuth base URL that serves /token, such as https://allegro.pl/auth/oauth',
    },
    client_id: { type: 'string', minLength: 1 },
    client_secret: { type: 'string', minLength: 1, writeOnly: true },
    refresh_token: {
      type: 'string',
      minLength: 1,
      writeOnly: true,
      'x-expected':
        "a refresh token of the seller's account; without one the source uses client credentials",
    },
    interval: { ...durationSchema, default: 10 },
    limit: { type: 'integer', minimum: 1, maximum: 1000, default: 100 },
    types: { type: 'array', items: { enum: ORDER_EVENT_TYPES }, uniqueItems: true },
    offer_events: { type: 'boolean', default: false },
    offer_types: { type: 'array', items: { type: 'string', pattern: '^OFFER_[A-Z_]+$' } },
    start: {
      enum: ['latest', 'oldest'],
      default: 'latest',
      'x-expected':
        '"latest" to start at GET /order/event-stats, "oldest" to read the whole journal',
    },
    backoff_initial: { ...durationSchema, default: 1 },
    backoff_max: { ...durationSchema, default: 300 },
    rate_limit_pause: { ...durationSchema, default: 60 },
    request_timeout: { ...durationSchema, default: 30 },
  },
};

/** Base URLs of each Allegro environment. */
export const ALLEGRO_ENVIRONMENTS = {
  production: { api: 'https://api.allegro.pl', auth: 'https://allegro.pl/auth/oauth' },
  sandbox: {
    api: 'https://api.allegro.pl.allegrosandbox.pl',
    auth: 'https://allegro.pl.allegrosandbox.pl/auth/oauth',
  },
} as const;

/** The options after ajv applied the defaults. */
export interface AllegroJournalOptions {
  environment: keyof typeof ALLEGRO_ENVIRONMENTS;
  api_url?: string;
  auth_url?: string;
  client_id: string;
  client_secret: string;
  refresh_token?: string;
  interval: number | string;
  limit: number;
  types?: string[];
  offer_events: boolean;
  offer_types?: string[];
  start: 'latest' | 'oldest';
  backoff_initial: number | string;
  backoff_max: number | string;
  rate_limit_pause: number | string;
  request_timeout: number | string;
}
