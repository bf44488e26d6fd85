import type { FastifyBaseLogger } from 'fastify';
import {
  type CryptoKey,
  createLocalJWKSet,
  type FlattenedJWSInput,
  type JSONWebKeySet,
  type JWSHeaderParameters,
} from 'jose';
import { ThrottledLog } from '../shared/throttled-log.js';

type LocalKeySet = ReturnType<typeof createLocalJWKSet>;

/** Signing keys could not be fetched and none are cached, so no token can be verified. */
export class KeysUnavailableError extends Error {
  constructor(url: string, options?: ErrorOptions) {
    super(`signing keys from ${url} are unavailable`, options);
    this.name = 'KeysUnavailableError';
  }
}

/** Timing settings of a {@link JwksCache}, in milliseconds. */
export interface JwksTiming {
  /** How long fetched keys are used before they are fetched again. */
  cacheTtlMs: number;
  /** Minimum time between fetches that a token with an unknown `kid` triggers. */
  cooldownMs: number;
  /** Time allowed for one fetch. */
  timeoutMs: number;
}

/**
 * The keys of a JSON Web Key Set URL, fetched on first use and again after `cacheTtlMs`. A token
 * whose `kid` matches no key triggers at most one refetch per `cooldownMs`, so rotated keys are
 * picked up but random `kid`s cannot flood the server. When a refetch fails, the keys fetched
 * before stay in use, and failures are logged at most once a minute.
 */
export class JwksCache {
  private keys?: LocalKeySet;
  private fetchedAt = Number.NEGATIVE_INFINITY;
  private attemptedAt = Number.NEGATIVE_INFINITY;
  private pending?: Promise<void>;
  private readonly failures: ThrottledLog;

  constructor(
    private readonly url: URL,
    private readonly timing: JwksTiming,
    private readonly log: FastifyBaseLogger,
    private readonly now: () => number = Date.now,
  ) {
    this.failures = new ThrottledLog(log, 60_000, now);
  }

  /** Resolves the key for a token header; the signature `jwtVerify` passes to a key function. */
  readonly getKey = async (
    header: JWSHeaderParameters,
    token: FlattenedJWSInput,
  ): Promise<CryptoKey> => {
    if (this.now() - this.fetchedAt >= this.timing.cacheTtlMs) {
      await this.refresh();
    }
    const keys = this.keys;
    if (!keys) {
      throw new KeysUnavailableError(this.url.href);
    }
    try {
      return (await keys(header, token)) as CryptoKey;
    } catch (error) {
      if ((error as { code?: string }).code !== 'ERR_JWKS_NO_MATCHING_KEY') {
        throw error;
      }
      if (this.now() - this.attemptedAt < this.timing.cooldownMs) {
        throw error;
      }
      await this.refresh();
      return (await (this.keys ?? keys)(header, token)) as CryptoKey;
    }
  };

  /**
   * Fetches the key set once, sharing one request among concurrent callers. After a failure the
   * next attempt waits for the cooldown (at most 5 s) so an unreachable server is not hammered.
   */
  refresh(): Promise<void> {
    if (this.pending) {
      return this.pending;
    }
    const retryAfterMs = this.keys
      ? this.timing.cooldownMs
      : Math.min(this.timing.cooldownMs, 5000);
    if (this.attemptedAt > this.fetchedAt && this.now() - this.attemptedAt < retryAfterMs) {
      return Promise.resolve();
    }
    this.attemptedAt = this.now();
    this.pending = this.fetchKeys()
      .then((set) => {
        this.keys = createLocalJWKSet(set);
        this.fetchedAt = this.now();
        this.log.info({ url: this.url.href, keys: set.keys.length }, 'fetched jwks');
      })
      .catch((error: Error) => {
        this.failures.error(
          'fetch',
          { url: this.url.href, err: error, stale_keys: this.keys !== undefined },
          'jwks fetch failed',
        );
      })
      .finally(() => {
        this.pending = undefined;
      });
    return this.pending;
  }

  private async fetchKeys(): Promise<JSONWebKeySet> {
    const response = await fetch(this.url, {
      headers: { accept: 'application/jwk-set+json, application/json' },
      redirect: 'error',
      signal: AbortSignal.timeout(this.timing.timeoutMs),
    });
    if (response.status !== 200) {
      await response.body?.cancel();
      throw new Error(`expected status 200, got ${response.status}`);
    }
    const body = (await response.json()) as Partial<JSONWebKeySet>;
    if (!Array.isArray(body.keys)) {
      throw new Error('the response is not a JSON Web Key Set: "keys" is not a list');
    }
    return body as JSONWebKeySet;
  }
}
