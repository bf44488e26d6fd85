import rateLimitPlugin from '@fastify/rate-limit';
import {
  definePlugin,
  errorBody,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
  formatDuration,
  type HookHandlerDoneFunction,
  type LimiterStore,
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
import { bucketPrefix, LimiterStoreError, limiterStoreClass } from './store-adapter.js';

/** Hits counted in a client's window and milliseconds until the window ends. */
type Count = { current: number; ttl: number };

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
    const bucket = options.group ?? route;
    const failures = new ThrottledLog(context.log);
    const storeFailed = (error: unknown) =>
      failures.error('store', { err: error }, 'limiter store failed');
    const skipOnError = options.on_store_error === 'allow';
    const keyOf = keyGeneratorFor(options.key);
    const { max, window } = options;
    context.stats.gauge('limiter', () => store.size());

    const message = `rate limit of ${max} requests per ${describeWindow(window)} exceeded`;
    const rejections = new ThrottledLog(context.log);
    /**
     * Writes the headers for a request counted `current` in a window that ends in `ttl` ms, and
     * rejects it with 429 past the limit. Returns whether it sent the reply.
     */
    const applyCount = (
      request: FastifyRequest,
      reply: FastifyReply,
      current: number,
      ttl: number,
    ): boolean => {
      const resetSeconds = Math.ceil(ttl / 1000);
      reply.header('x-ratelimit-limit', max);
      if (current <= max) {
        reply.header('x-ratelimit-remaining', max - current);
        reply.header('x-ratelimit-reset', resetSeconds);
        return false;
      }
      reply.header('x-ratelimit-remaining', 0);
      reply.header('x-ratelimit-reset', resetSeconds);
      reply.header('retry-after', resetSeconds);
      context.stats.increment('requests_rate_limited', route);
      rejections.warn('exceeded', { principal: request.principal?.id }, message);
      reply.code(429).send(
        errorBody('PACTOWN_ERR_RATE_LIMITED', `${message}; retry in ${resetSeconds} s`, route, {
          retry_after: resetSeconds,
        }),
      );
      return true;
    };
    const rejectUnavailable = (reply: FastifyReply) => {
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
    };

    /** Applies a count and calls done unless the reply was sent; a throw goes to done. */
    const settle = (
      request: FastifyRequest,
      reply: FastifyReply,
      done: HookHandlerDoneFunction,
      count: Count,
    ) => {
      let sent: boolean;
      try {
        sent = applyCount(request, reply, count.current, count.ttl);
      } catch (failure) {
        done(failure as Error);
        return;
      }
      // A hook that sends the reply itself must not call done.
      if (!sent) {
        done();
      }
    };
    /** Lets the request through uncounted or replies 503, as `on_store_error` sets. */
    const settleFailure = (
      request: FastifyRequest,
      reply: FastifyReply,
      done: HookHandlerDoneFunction,
      error: unknown,
    ) => {
      storeFailed(error);
      if (skipOnError) {
        // The headers that @fastify/rate-limit writes with skipOnError: nothing counted.
        settle(request, reply, done, { current: 0, ttl: 0 });
        return;
      }
      try {
        rejectUnavailable(reply);
      } catch (failure) {
        done(failure as Error);
      }
    };

    if (store.synchronous) {
      // An in-process store returns its count at once, so the hook counts and decides in the same
      // call. @fastify/rate-limit's check would cost three promises and their microtasks per
      // request, about 3 % of the jwt + rate_limit bench route's CPU time in a profile.
      const prefix = bucketPrefix(bucket);
      scope.addHook('onRequest', (request, reply, done) => {
        // Outside the try, so that a failing key generator is not reported as a store failure.
        const key = prefix + keyOf(request);
        let counted: ReturnType<LimiterStore['incr']>;
        try {
          counted = store.incr(key, window);
        } catch (error) {
          settleFailure(request, reply, done, error);
          return;
        }
        if (counted instanceof Promise) {
          // The store returned a promise after all, so wait for it rather than fail the request.
          counted.then(
            (count) => settle(request, reply, done, count),
            (error: unknown) => settleFailure(request, reply, done, error),
          );
          return;
        }
        settle(request, reply, done, counted);
      });
      return;
    }

    await scope.register(rateLimitPlugin, {
      global: false,
      store: limiterStoreClass(store, bucket, storeFailed),
      skipOnError,
    });
    // createRateLimit runs the plugin's counting (key, store, window) without the plugin's own
    // hook, which costs an extra async function, promise and request flag per request. The
    // headers below are the ones that hook writes, with the same values.
    const check = scope.createRateLimit({
      max,
      timeWindow: window,
      keyGenerator: keyOf,
      skipOnError,
    });
    // A callback hook, because an async one would add a promise per request to the limiter's own.
    scope.addHook('onRequest', (request, reply, done) => {
      check(request).then(
        (verdict) => {
          if (verdict.isAllowed) {
            done();
          } else {
            settle(request, reply, done, countOf(verdict));
          }
        },
        (error: unknown) => {
          if (!(error instanceof LimiterStoreError)) {
            done(error as Error);
            return;
          }
          try {
            rejectUnavailable(reply);
          } catch (failure) {
            done(failure as Error);
          }
        },
      );
    });
  },
});

/** Returns the count behind a verdict; @fastify/rate-limit caps `remaining` at 0 past the limit. */
function countOf(verdict: Extract<Verdict, { isAllowed: false }>): Count {
  return {
    current: verdict.isExceeded ? verdict.max + 1 : verdict.max - verdict.remaining,
    ttl: verdict.ttl,
  };
}

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
