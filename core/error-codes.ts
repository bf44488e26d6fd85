import { DELIVERY_ERROR_CODES } from './delivery/errors.js';
import { ERROR_CODES } from './errors.js';
import { WEBSOCKET_ERROR_CODES } from './proxy/websocket-errors.js';
import { STORE_ERROR_CODES } from './stores/redis-errors.js';
import { WEBHOOK_ERROR_CODES } from './webhooks/errors.js';

/** One error code's HTTP status and default message. */
export interface ErrorCodeEntry {
  status: number;
  message: string;
}

/**
 * Each core area's error registry, by the name of the doc page that documents its fixes. The
 * built-in policies keep theirs in plugins/shared/error-codes.ts, because the core imports no
 * plugin.
 */
export const ERROR_REGISTRIES: Record<string, Record<string, ErrorCodeEntry>> = {
  'errors.md': ERROR_CODES,
  'webhooks.md': WEBHOOK_ERROR_CODES,
  'delivery.md': DELIVERY_ERROR_CODES,
  'configuration.md': WEBSOCKET_ERROR_CODES,
  'scaling.md': STORE_ERROR_CODES,
};
