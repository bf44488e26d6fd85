import rateLimitPlugin from '@fastify/rate-limit';
import {
  definePlugin,
  errorBody,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
  formatDuration,
  type OptionsIssue,
  PLUGIN_API_VERSION,
  type PluginCheckContext,
} from '../../core/index.js';
import type { AuthOptions } from '../auth/options.js';
import { ThrottledLog } from '../shared/throttled-log.js';
import { keyGeneratorFor } from './keys.js';
import {
  describeWindow,
  expandRateLimitOptions,
  type RateLimitOptions,
  rateLimitOptionsSchema,
} from './options.js';
import { LimiterStoreError, limiterStoreClass } from './store-adapter.js';

/** The result of @fastify/rate-limit's `createRateLimit` check for one request. */
type Verdict = Awaited<ReturnType<ReturnType<FastifyInstance['createRateLimit']>>>;

/**
 * The `rate-limit` policy on @fastify/rate-limit: fixed windows per client, counted in a
 * `limiter-store`. Every response that passes it carries `x-ratelimit-limit`, `-remaining` and
 * `-reset`; a request over the limit gets 429 with `retry-after` and a JSON body.
 *
 * @example
 * ```yaml
 * rate_limit: 100/min
 * rate_limit: { max: 1000, window: 1h, key: jwt:sub, on_store_error: deny }
 * ```
 */
export default definePlugin({
  name: 'rate-limit',
  kind: 'policy',
  apiVersion: PLUGIN_API_VERSION,
  description: 'fixed-window request limits per client address, API key, claim or header',
  routeKey: 'rate_limit',
  shorthandOrder: 20,
  optionsSchema: rateLimitOptionsSchema,
  expandShorthand: expandRateLimitOptions,
  describeOptions: (options: RateLimitOptions) => ({
    ...options,
    window: formatDuration(options.window),
  }),
  check: checkRateLimitOptions,
  async register(scope, options: RateLimitOptions, context) {
    const store = context.stores.limiter(options.store);
    if (!store) {
      throw new Error(`limiter store "${options.store ?? 'default'}" is not registered`);
    }
    const route = context.route.path;
    const failures = new ThrottledLog(context.log);
    const storeClass = limiterStoreClass(store, options.group ?? route, (error) =>
      failures.error('store', { err: error }, 'limiter store failed'),
    );
    const skipOnError = options.on_store_error === 'allow';
    await scope.register(rateLimitPlugin, { global: false, store: storeClass, skipOnError });
    const keyGenerator = keyGeneratorFor(options.key);
    // createRateLimit runs the plugin's counting (key, store, window) without the plugin's own
    // hook, which costs an extra async function, promise and request flag per request. The
    // headers below are the ones that hook writes, with the same values.
    const check = scope.createRateLimit({
      max: options.max,
      timeWindow: options.window,
      // An explicit undefined would replace @fastify/rate-limit's own client-address generator.
      ...(keyGenerator ? { keyGenerator } : {}),
      skipOnError,
    });
    context.stats.gauge('limiter', () => store.size());

    const message = `rate limit of ${options.max} requests per ${describeWindow(options.window)} exceeded`;
    const rejections = new ThrottledLog(context.log);
    const applyVerdict = (
      request: FastifyRequest,
      reply: FastifyReply,
      verdict: Verdict,
    ): boolean => {
      if (verdict.isAllowed) {
        return false;
      }
      reply.header('x-ratelimit-limit', verdict.max);
      if (!verdict.isExceeded) {
        reply.header('x-ratelimit-remaining', verdict.remaining);
        reply.header('x-ratelimit-reset', verdict.ttlInSeconds);
        return false;
      }
      reply.header('x-ratelimit-remaining', 0);
      reply.header('x-ratelimit-reset', verdict.ttlInSeconds);
      reply.header('retry-after', verdict.ttlInSeconds);
      context.stats.increment('requests_rate_limited', route);
      rejections.warn('exceeded', { principal: request.principal?.id }, message);
      const retryAfter = Math.ceil(verdict.ttl / 1000);
      reply.code(429).send(
        errorBody('PACTOWN_ERR_RATE_LIMITED', `${message}; retry in ${retryAfter} s`, route, {
          retry_after: retryAfter,
        }),
      );
      return true;
    };
    const rejectStoreFailure = (reply: FastifyReply, error: unknown): boolean => {
      if (!(error instanceof LimiterStoreError)) {
        return false;
      }
      reply
        .code(503)
        .header('retry-after', '1')
        .send(
          errorBody(
            'PACTOWN_ERR_RATE_LIMIT_UNAVAILABLE',
            'the rate limiter is unavailable; retry later',
            route,
          ),
        );
      return true;
    };
    // A callback hook, because an async one would add a promise per request to the limiter's own.
    scope.addHook('onRequest', (request, reply, done) => {
      check(request).then(
        (verdict) => {
          let sent: boolean;
          try {
            sent = applyVerdict(request, reply, verdict);
          } catch (failure) {
            done(failure as Error);
            return;
          }
          // A hook that sends the reply itself must not call done.
          if (!sent) {
            done();
          }
        },
        (error: unknown) => {
          let sent: boolean;
          try {
            sent = rejectStoreFailure(reply, error);
          } catch (failure) {
            done(failure as Error);
            return;
          }
          if (!sent) {
            done(error as Error);
          }
        },
      );
    });
  },
});

/** Checks that a keyed limit comes after the `auth` policy whose principal it counts by. */
function checkRateLimitOptions(
  options: RateLimitOptions,
  context: PluginCheckContext,
): OptionsIssue[] {
  const issues: OptionsIssue[] = [];
  if (options.max < 1) {
    issues.push({
      path: [],
      message: `a limit of ${options.max} requests rejects every request`,
      hint: 'allow at least 1 request per window, or remove the route',
    });
  }
  if (options.store !== undefined && !context.registry.get('limiter-store', options.store)) {
    const known = context.registry.list('limiter-store').map((store) => store.name);
    issues.push({
      path: ['store'],
      message: `unknown limiter store "${options.store}"`,
      hint: `known limiter stores: ${known.join(', ') || 'none'}`,
    });
  }
  const needs = options.key === 'api_key' ? 'api_key' : options.key.startsWith('jwt:') ? 'jwt' : '';
  if (needs) {
    const policies = context.route.policies;
    const own = policies.findIndex((ref) => ref.name === 'rate-limit');
    const auth = policies.findIndex((ref) => ref.name === 'auth');
    const scheme = auth === -1 ? undefined : (policies[auth].options as AuthOptions).scheme;
    if (auth === -1 || auth > own || scheme !== needs) {
      issues.push({
        path: ['key'],
        message: `key "${options.key}" needs an auth policy with scheme ${needs} before the rate limit on this route`,
        hint: `add auth: ${needs === 'jwt' ? 'jwt' : '{scheme: api_key, ...}'} to the route, or count by key: ip`,
      });
    }
  }
  return issues;
}
