import type { RouteIssue } from './kind.js';

/** An http(s) URL whose authority carries `user:password@` or `user@`. */
const USERINFO = /^https?:\/\/[^/?#]*@/i;

/**
 * Reports a `target` with user information: neither proxying nor webhook delivery sends it to
 * the upstream, so a route that seems to log in would go out without credentials.
 */
export function checkTargetUserinfo(raw: Record<string, unknown>): RouteIssue[] {
  if (typeof raw.target !== 'string' || !USERINFO.test(raw.target)) {
    return [];
  }
  return [
    {
      path: ['target'],
      message:
        'target contains user:password@, which is not sent upstream; remove it and set the Authorization header with a header-rules policy',
    },
  ];
}
