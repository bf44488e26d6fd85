/** Methods whose repeat has the same effect as one request (RFC 9110 section 9.2.2). */
const IDEMPOTENT_METHODS = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE']);

/** Connection failures after which the upstream may not have seen the request complete. */
const RETRYABLE_ERRORS = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'EPIPE',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
  'UND_ERR_CONNECT_TIMEOUT',
]);

interface RetryContext {
  err?: Error & { code?: string };
  req: { method: string; headers: Record<string, unknown>; body?: unknown };
  res?: unknown;
  attempt: number;
}

/**
 * Builds @fastify/reply-from's `retryDelay`: exponential backoff with jitter (100 ms doubling,
 * capped at 2 s) after a connection failure, only for idempotent methods or requests that carry
 * an `Idempotency-Key`, and never for a request whose body was streamed, since it cannot be re-read.
 */
export function retryDelayFor(maxRetries: number) {
  return ({ err, req, attempt }: RetryContext): number | null => {
    if (!err || attempt >= maxRetries) {
      return null;
    }
    if (!RETRYABLE_ERRORS.has(err.code ?? '')) {
      return null;
    }
    const idempotent =
      IDEMPOTENT_METHODS.has(req.method) || req.headers['idempotency-key'] !== undefined;
    const streamed = req.body !== undefined && req.body !== '' && typeof req.body !== 'string';
    if (!idempotent || streamed) {
      return null;
    }
    const base = Math.min(2000, 100 * 2 ** attempt);
    return Math.max(1, Math.round(base / 2 + Math.random() * (base / 2)));
  };
}
