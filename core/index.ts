/**
 * The public API of pactown-gateway: the plugin contract for community packages, config loading
 * and the gateway factory.
 */

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
export { durationSchema, parseDuration, parseRate, parseSize, sizeSchema } from './config/units.js';
export { constantTimeEqual } from './crypto.js';
export { ERROR_CODES, errorBody, GatewayError } from './errors.js';
export * from './plugin-api.js';
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
export type {
  DeliveryContext,
  DeliveryMode,
  DeliveryOutcome,
  VerifiedEvent,
} from './webhooks/delivery.js';
