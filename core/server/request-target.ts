import type { IncomingMessage } from 'node:http';

/** An absolute-form target: scheme, authority (user information dropped), then the rest. */
const ABSOLUTE_FORM = /^https?:\/\/(?:[^/?#@]*@)?([^/?#]*)([^#]*)/i;

/**
 * Turns an absolute-form request target (`GET http://host/path`, which RFC 9112 section 3.2.2
 * requires servers to accept) into the origin form `/path` that routes and the forwarder read,
 * and takes the Host from it, as that section requires. Other targets are returned unchanged.
 */
export function originForm(request: IncomingMessage): string {
  const url = request.url ?? '/';
  if (url.charCodeAt(0) === 47) {
    return url;
  }
  const match = ABSOLUTE_FORM.exec(url);
  if (!match) {
    return url;
  }
  if (match[1] !== '') {
    request.headers.host = match[1];
  }
  const rest = match[2];
  if (rest === '') {
    return '/';
  }
  return rest.charCodeAt(0) === 47 ? rest : `/${rest}`;
}
