import type { FastifyBaseLogger } from 'fastify';

/**
 * Logs a repeated error at most once per interval for each key, adding how many repeats were
 * suppressed since the last line, so an unreachable JWKS server or store does not flood the log.
 */
export class ThrottledLog {
  private readonly lastLogged = new Map<string, number>();
  private readonly suppressed = new Map<string, number>();

  constructor(
    private readonly log: FastifyBaseLogger,
    private readonly intervalMs = 60_000,
    private readonly now: () => number = Date.now,
  ) {}

  /** Logs `message` at error level for `key` unless it was logged within the interval. */
  error(key: string, fields: Record<string, unknown>, message: string): void {
    this.write('error', key, fields, message);
  }

  /** Logs `message` at warn level for `key` unless it was logged within the interval. */
  warn(key: string, fields: Record<string, unknown>, message: string): void {
    this.write('warn', key, fields, message);
  }

  private write(
    level: 'error' | 'warn',
    key: string,
    fields: Record<string, unknown>,
    message: string,
  ): void {
    const time = this.now();
    const last = this.lastLogged.get(key);
    if (last !== undefined && time - last < this.intervalMs) {
      this.suppressed.set(key, (this.suppressed.get(key) ?? 0) + 1);
      return;
    }
    const repeats = this.suppressed.get(key) ?? 0;
    this.lastLogged.set(key, time);
    this.suppressed.delete(key);
    this.log[level](repeats > 0 ? { ...fields, suppressed: repeats } : fields, message);
  }
}
