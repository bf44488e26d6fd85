import {
  definePlugin,
  formatDuration,
  type OptionsIssue,
  PLUGIN_API_VERSION,
  type PluginCheckContext,
} from '../../core/index.js';
import {
  authRunsBeforeCache,
  type CacheOptions,
  cacheOptionsSchema,
  expandCacheOptions,
  userKeyFor,
} from './options.js';
import { CACHE_STATE, ResponseCache } from './response-cache.js';

/**
 * The `cache` policy: a shared response cache for GET and HEAD that obeys the upstream's
 * `Cache-Control`, keys entries by method, host, normalised path, sorted query and `Vary`, and
 * stores them in a `cache-store`. It builds on the abstract store idea of @fastify/caching but
 * does not register that plugin. Its ETag lookup is keyed by the ETag alone, so it would respond
 * 304 to one URL with another URL's ETag.
 *
 * @example
 * ```yaml
 * cache: 60s
 * cache: { ttl: 5m, statuses: [200, 404], max_body: 256kb, user_key: [principal] }
 * ```
 */
export default definePlugin({
  name: 'cache',
  kind: 'policy',
  apiVersion: PLUGIN_API_VERSION,
  description: 'shared response cache for GET and HEAD, bounded, with single flight',
  routeKey: 'cache',
  shorthandOrder: 30,
  optionsSchema: cacheOptionsSchema,
  expandShorthand: expandCacheOptions,
  describeOptions: (options: CacheOptions) => ({ ...options, ttl: formatDuration(options.ttl) }),
  check: checkCacheOptions,
  async register(scope, options: CacheOptions, context) {
    const store = context.stores.cache(options.store);
    if (!store) {
      throw new Error(`cache store "${options.store ?? 'default'}" is not registered`);
    }
    const routeOptions = { ...options, user_key: userKeyFor(options, context.route.policies) };
    const cache = new ResponseCache(
      routeOptions,
      store,
      context.stats,
      context.route.path,
      context.log,
    );
    context.stats.gauge('cache', () => store.size());
    scope.decorateRequest(CACHE_STATE, null);
    scope.addHook('onRequest', cache.onRequest);
    scope.addHook('onSend', cache.onSend);
  },
});

function checkCacheOptions(options: CacheOptions, context: PluginCheckContext): OptionsIssue[] {
  const issues: OptionsIssue[] = [];
  if (options.store !== undefined && !context.registry.get('cache-store', options.store)) {
    const known = context.registry.list('cache-store').map((store) => store.name);
    issues.push({
      path: ['store'],
      message: `unknown cache store "${options.store}"`,
      hint: `known cache stores: ${known.join(', ') || 'none'}`,
    });
  }
  const principal = options.user_key?.indexOf('principal') ?? -1;
  if (principal !== -1 && !authRunsBeforeCache(context.route.policies)) {
    issues.push({
      path: ['user_key', principal],
      message: '"principal" needs the auth policy before the cache on this route',
      hint: 'add auth: to the route, or key by authorization or a cookie instead',
    });
  }
  return issues;
}
