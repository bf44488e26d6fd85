/**
 * The public API of pactown-gateway: the plugin contract for community packages, config loading
 * and the gateway factory.
 */

export type { FastifyBaseLogger } from 'fastify';
export { ConfigError, type ConfigIssue, formatIssues } from './config/issues.js';
export {
  configPath,
  type LoadedConfig,
  type LoadOptions,
  loadConfig,
  loadConfigText,
} from './config/load.js';
export { configSchema, publishableSchema } from './config/schema.js';
export type { GatewayConfig, PluginRef, RouteConfig, ServerConfig } from './config/types.js';
export {
  DURATION_PATTERN,
  durationSchema,
  formatDuration,
  parseDuration,
  parseRate,
  parseSize,
  RATE_PATTERN,
  sizeSchema,
} from './config/units.js';
export { constantTimeEqual } from './crypto.js';
export { DELIVERY_ERROR_CODES } from './delivery/errors.js';
export { queueDeliveryMode } from './delivery/queue-mode.js';
export { RedisDeliveryStore } from './delivery/redis-store.js';
export { DEFAULT_RETRY_SCHEDULE_MS, parseRetryAfter } from './delivery/schedule.js';
export { DELIVERY_ID_HEADER, SIGNATURE_HEADER, signBody } from './delivery/signature.js';
export { SqliteDeliveryStore } from './delivery/sqlite-store.js';
export type {
  CursorStore,
  Delivery,
  DeliveryAttempt,
  DeliveryFilter,
  DeliveryStatus,
  DeliveryStore,
  NewDelivery,
} from './delivery/store.js';
export { ERROR_CODES, errorBody, GatewayError } from './errors.js';
export { InsertionOrderedMap } from './ordered-map.js';
export * from './plugin-api.js';
export { limitBody } from './proxy/body-limit.js';
export { proxyRouteKind } from './proxy/proxy-kind.js';
export { PluginRegistrationError, PluginRegistry } from './registry.js';
export type { RouteIssue, RouteKind, RouteRuntime } from './routes/kind.js';
export { createGateway, Gateway, type GatewayOptions } from './server/gateway.js';
export { createRedactor, REDACTED } from './server/redact.js';
export { GatewayStats } from './server/stats.js';
export type {
  CacheEntry,
  CacheStore,
  IdempotencyStore,
  LimiterStore,
} from './stores/interfaces.js';
export { MemoryIdempotencyStore } from './stores/memory-idempotency.js';
export {
  acquireRedis,
  DEFAULT_KEY_PREFIX,
  type RedisLease,
  RedisScript,
  type RedisSettings,
  redactRedisUrl,
  redisSettingsFromOptions,
} from './stores/redis-connection.js';
export { RedisCursorStore } from './stores/redis-cursors.js';
export { STORE_ERROR_CODES } from './stores/redis-errors.js';
export { RedisIdempotencyStore } from './stores/redis-idempotency.js';
export { RedisLock } from './stores/redis-lock.js';
export { redisConnectionProperties } from './stores/redis-settings.js';
export { SqliteCursorStore } from './stores/sqlite-cursors.js';
export { SqliteIdempotencyStore } from './stores/sqlite-idempotency.js';
export { dedupeKey, dedupeWindowMs } from './webhooks/dedupe.js';
export type {
  DeliveryContext,
  DeliveryMode,
  DeliveryOutcome,
  VerifiedEvent,
} from './webhooks/delivery.js';
export { WEBHOOK_ERROR_CODES } from './webhooks/errors.js';
export { forwardHeaders } from './webhooks/forward.js';
export {
  decodeBase64,
  decodeHex,
  type HeaderRead,
  hmacSha256,
  matchesAny,
  mediaTypeOf,
  parseUnixSeconds,
  readJsonFields,
  readSingleHeader,
  reject,
  rejectTimestamp,
  singleHeaderValue,
  withinTolerance,
} from './webhooks/signatures.js';
export { syncDeliveryMode } from './webhooks/sync-delivery.js';
export { createWebhookRouteKind } from './webhooks/webhook-kind.js';
