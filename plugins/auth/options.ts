import type { JsonSchema } from '../../core/index.js';
import { HEADER_NAME_PATTERN } from '../shared/headers.js';

/** Options of the `auth` policy after {@link expandAuthOptions}. */
export interface AuthOptions {
  /** Name of the `auth-scheme` plugin, such as `jwt`, `api_key` or `basic`. */
  scheme: string;
  /** Forward the credential headers (`Authorization`) to the upstream; default false. */
  pass_authorization: boolean;
  /** Principal claims copied into request headers, claim name to header name. */
  forward_claims: Record<string, string>;
  /** Every other key as written: the options of the scheme. */
  options: Record<string, unknown>;
}

/** Keys that the `auth` policy reads itself; the rest go to the scheme. */
export const AUTH_POLICY_KEYS = ['scheme', 'pass_authorization', 'forward_claims'] as const;

export const authOptionsSchema: JsonSchema = {
  anyOf: [
    { type: 'string', minLength: 1 },
    {
      type: 'object',
      required: ['scheme'],
      properties: {
        scheme: { type: 'string', minLength: 1 },
        pass_authorization: { type: 'boolean' },
        forward_claims: {
          type: 'object',
          additionalProperties: { type: 'string', pattern: HEADER_NAME_PATTERN },
        },
      },
    },
  ],
  'x-expected': 'an auth scheme name such as jwt, or a map with scheme: and the scheme options',
};

/** Turns `auth: jwt` or `auth: {scheme: jwt, ...}` into {@link AuthOptions}. */
export function expandAuthOptions(value: unknown): AuthOptions {
  if (typeof value === 'string') {
    return { scheme: value, pass_authorization: false, forward_claims: {}, options: {} };
  }
  const written = { ...(value as Record<string, unknown>) };
  const expanded: AuthOptions = {
    scheme: String(written.scheme),
    pass_authorization: written.pass_authorization === true,
    forward_claims: (written.forward_claims as Record<string, string> | undefined) ?? {},
    options: written,
  };
  for (const key of AUTH_POLICY_KEYS) {
    delete written[key];
  }
  return expanded;
}
