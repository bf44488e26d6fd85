import corsPlugin from '@fastify/cors';
import type { FastifyInstance, onRequestHookHandler } from 'fastify';
import {
  definePlugin,
  durationSchema,
  type JsonSchema,
  type OptionsIssue,
  PLUGIN_API_VERSION,
  parseDuration,
} from '../../core/index.js';
import { HEADER_NAME_PATTERN } from '../shared/headers.js';

/** Options of the `cors` policy as written. */
interface CorsOptions {
  origin?: string | string[];
  methods?: string[];
  allowed_headers?: string[];
  exposed_headers?: string[];
  credentials?: boolean;
  max_age?: number | string;
}

const headerList: JsonSchema = {
  type: 'array',
  items: { type: 'string', pattern: HEADER_NAME_PATTERN },
};

const ORIGIN_PATTERN = '^(\\*|https?://(\\*\\.)?[^\\s/*]+)$';

const optionsSchema: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    origin: {
      anyOf: [
        { type: 'string', pattern: ORIGIN_PATTERN },
        { type: 'array', minItems: 1, items: { type: 'string', pattern: ORIGIN_PATTERN } },
      ],
      'x-expected':
        '"*", an origin such as https://app.example.com, https://*.example.com, or a list',
    },
    methods: { type: 'array', minItems: 1, items: { type: 'string', pattern: '^[A-Z]+$' } },
    allowed_headers: headerList,
    exposed_headers: headerList,
    credentials: { type: 'boolean' },
    max_age: durationSchema,
  },
};

/** Turns `https://*.example.com` into a RegExp for one subdomain level; others stay exact. */
function originMatcher(origin: string): string | RegExp {
  const separator = origin.indexOf('://*.');
  if (separator === -1) {
    return origin;
  }
  const scheme = escapeRegExp(origin.slice(0, separator));
  const domain = escapeRegExp(origin.slice(separator + 5));
  return new RegExp(`^${scheme}://[^./]+\\.${domain}$`);
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * The `cors` policy on @fastify/cors: responds to CORS preflight requests in `onRequest` and adds
 * the `Access-Control-*` headers to the responses of the route. An `OPTIONS` request that is not
 * a preflight (no `Origin` or no `Access-Control-Request-Method`) goes to the upstream.
 *
 * @example
 * ```yaml
 * global_plugins:
 *   - cors: { origin: [https://app.example.com], credentials: true, max_age: 10m }
 * ```
 */
export default definePlugin({
  name: 'cors',
  kind: 'policy',
  apiVersion: PLUGIN_API_VERSION,
  description: 'CORS headers and preflight responses (@fastify/cors)',
  optionsSchema,
  check(options: CorsOptions): OptionsIssue[] {
    const origins = [options.origin ?? '*'].flat();
    if (options.credentials === true && origins.includes('*')) {
      return [
        {
          path: ['credentials'],
          message: 'credentials: true cannot be used with origin "*", which browsers reject',
          hint: 'list the allowed origins under origin:',
        },
      ];
    }
    return [];
  },
  async register(scope, options: CorsOptions) {
    const origins = [options.origin ?? '*'].flat().map(originMatcher);
    const corsHook = await captureCorsHook(scope, {
      origin: origins.includes('*') ? '*' : origins,
      methods: options.methods ?? ['GET', 'HEAD', 'PUT', 'PATCH', 'POST', 'DELETE'],
      allowedHeaders: options.allowed_headers,
      exposedHeaders: options.exposed_headers,
      credentials: options.credentials ?? false,
      maxAge: options.max_age === undefined ? undefined : parseDuration(options.max_age) / 1000,
      hook: 'onRequest',
    });
    scope.addHook('onRequest', function corsPolicy(request, reply, done) {
      const preflightLike = request.method === 'OPTIONS';
      if (
        preflightLike &&
        (request.headers.origin === undefined ||
          request.headers['access-control-request-method'] === undefined)
      ) {
        done();
        return;
      }
      corsHook.call(this, request, reply, done);
    });
  },
});

/**
 * Runs @fastify/cors against a stand-in for the route scope and returns its `onRequest` hook.
 * @fastify/cors also declares an `OPTIONS *` route so that Fastify accepts preflights on paths
 * without one. Proxy routes take every method already, and a second route with CORS would clash
 * with the first one's `OPTIONS *`, so the stand-in drops that declaration.
 */
async function captureCorsHook(
  scope: FastifyInstance,
  options: Record<string, unknown>,
): Promise<onRequestHookHandler> {
  let captured: onRequestHookHandler | undefined;
  const standIn = Object.create(scope, {
    addHook: {
      value: (_name: string, hook: onRequestHookHandler) => {
        captured = hook;
        return standIn;
      },
    },
    options: { value: () => standIn },
  }) as FastifyInstance;
  // @fastify/cors merges options over its defaults, so an undefined key would replace a default.
  const defined = Object.fromEntries(
    Object.entries(options).filter(([, value]) => value !== undefined),
  );
  const register = corsPlugin as unknown as (
    instance: FastifyInstance,
    options: Record<string, unknown>,
    done: (error?: Error) => void,
  ) => void;
  await new Promise<void>((resolve, reject) =>
    register(standIn, defined, (error) => (error ? reject(error) : resolve())),
  );
  if (!captured) {
    throw new Error('@fastify/cors registered no onRequest hook');
  }
  return captured;
}
