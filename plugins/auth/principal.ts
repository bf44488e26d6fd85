import type { Principal } from '../../core/index.js';

declare module 'fastify' {
  interface FastifyRequest {
    /**
     * The client that made the request, set by the `auth` policy once the auth scheme accepted it.
     * It is null or undefined on routes without `auth`, and before `auth` runs.
     */
    principal?: Principal | null;
  }
}
