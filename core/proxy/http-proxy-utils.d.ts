declare module '@fastify/http-proxy/utils.js' {
  import type { IncomingHttpHeaders } from 'node:http';

  /** Replaces characters that Node rejects in header values, as the plugin does for replies. */
  export function sanitizeHeaders(headers: IncomingHttpHeaders): IncomingHttpHeaders;
}
