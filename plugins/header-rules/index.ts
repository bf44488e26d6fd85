import type { FastifyReply, FastifyRequest } from 'fastify';
import {
  definePlugin,
  type JsonSchema,
  type OptionsIssue,
  PLUGIN_API_VERSION,
} from '../../core/index.js';
import { HEADER_NAME_PATTERN } from '../shared/headers.js';

/** Changes to one direction's headers, applied in the order remove, set, add. */
interface HeaderChanges {
  /** Header names to drop. */
  remove?: string[];
  /** Headers to set, replacing any value already there. */
  set?: Record<string, string>;
  /** Headers to append to, keeping any value already there. */
  add?: Record<string, string>;
}

/** Options of the `header-rules` policy as written. */
interface HeaderRulesOptions {
  request?: HeaderChanges;
  response?: HeaderChanges;
}

/** Headers that describe the message framing or the target; changing them breaks the exchange. */
const PROTECTED_REQUEST = ['host', 'content-length', 'transfer-encoding', 'connection'];
const PROTECTED_RESPONSE = ['content-length', 'transfer-encoding', 'connection'];

const changesSchema: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    remove: { type: 'array', items: { type: 'string', pattern: HEADER_NAME_PATTERN } },
    set: {
      type: 'object',
      propertyNames: { pattern: HEADER_NAME_PATTERN },
      additionalProperties: { type: 'string', pattern: '^[^\\r\\n]*$' },
    },
    add: {
      type: 'object',
      propertyNames: { pattern: HEADER_NAME_PATTERN },
      additionalProperties: { type: 'string', pattern: '^[^\\r\\n]*$' },
    },
  },
};

/** A change list with lower-case names, prepared once at start. */
interface PreparedChanges {
  remove: string[];
  set: [string, string][];
  add: [string, string][];
}

function prepare(changes: HeaderChanges | undefined): PreparedChanges | undefined {
  if (!changes) {
    return undefined;
  }
  const lower = (record: Record<string, string> | undefined) =>
    Object.entries(record ?? {}).map(
      ([name, value]) => [name.toLowerCase(), value] as [string, string],
    );
  return {
    remove: (changes.remove ?? []).map((name) => name.toLowerCase()),
    set: lower(changes.set),
    add: lower(changes.add),
  };
}

function appendValue(existing: unknown, value: string): string | string[] {
  if (existing === undefined) {
    return value;
  }
  if (Array.isArray(existing)) {
    return [...existing.map(String), value];
  }
  return `${String(existing)}, ${value}`;
}

/**
 * The `header-rules` policy: removes, sets and appends request headers before the request is
 * proxied, and response headers before the response is sent (cache hits included).
 *
 * @example
 * ```yaml
 * plugins:
 *   - header-rules:
 *       request: { set: { x-gateway: pactown }, remove: [x-debug] }
 *       response: { remove: [server, x-powered-by], add: { cache-control: no-transform } }
 * ```
 */
export default definePlugin({
  name: 'header-rules',
  kind: 'policy',
  apiVersion: PLUGIN_API_VERSION,
  description: 'removes, sets and appends request and response headers',
  optionsSchema: {
    type: 'object',
    additionalProperties: false,
    properties: { request: changesSchema, response: changesSchema },
  },
  check(options: HeaderRulesOptions): OptionsIssue[] {
    const issues: OptionsIssue[] = [];
    const directions = [
      ['request', PROTECTED_REQUEST],
      ['response', PROTECTED_RESPONSE],
    ] as const;
    for (const [direction, protectedNames] of directions) {
      const changes = options[direction] ?? {};
      for (const kind of ['remove', 'set', 'add'] as const) {
        const value = changes[kind];
        const names = Array.isArray(value) ? value : Object.keys(value ?? {});
        for (const name of names) {
          if (protectedNames.includes(name.toLowerCase())) {
            issues.push({
              path: [direction, kind],
              message: `the ${direction} header "${name}" cannot be changed by header rules`,
            });
          }
        }
      }
    }
    return issues;
  },
  register(scope, options: HeaderRulesOptions) {
    const request = prepare(options.request);
    const response = prepare(options.response);
    if (request) {
      scope.addHook('onRequest', async (incoming: FastifyRequest) => {
        const headers = incoming.headers;
        for (const name of request.remove) {
          delete headers[name];
        }
        for (const [name, value] of request.set) {
          headers[name] = value;
        }
        for (const [name, value] of request.add) {
          headers[name] = appendValue(headers[name], value);
        }
      });
    }
    if (response) {
      scope.addHook(
        'onSend',
        async (_request: FastifyRequest, reply: FastifyReply, payload: unknown) => {
          for (const name of response.remove) {
            reply.removeHeader(name);
          }
          for (const [name, value] of response.set) {
            reply.header(name, value);
          }
          for (const [name, value] of response.add) {
            // Fastify appends to set-cookie itself; joining would repeat the existing cookies.
            const merged =
              name === 'set-cookie' ? value : appendValue(reply.getHeader(name), value);
            reply.header(name, merged);
          }
          return payload;
        },
      );
    }
  },
});
