import { createHash } from 'node:crypto';
import { Agent, request } from 'undici';
import {
  type FastifyBaseLogger,
  parseRetryAfter,
  type SourceStateStore,
} from '../../core/index.js';

/** Media type of Allegro's REST API, version 1. */
export const ALLEGRO_MEDIA_TYPE = 'application/vnd.allegro.public.v1+json';

/** Seconds before expiry at which an access token is renewed. */
const RENEW_BEFORE_MS = 60_000;

/** State key of the latest refresh token, which Allegro rotates on every refresh. */
const REFRESH_TOKEN_KEY = 'oauth:refresh_token';

/** An HTTP response from Allegro other than 2xx, or a failed request (status 0). */
export class AllegroApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly retryAfterMs?: number,
  ) {
    super(message);
    this.name = 'AllegroApiError';
  }
}

/** Settings of {@link AllegroClient}. */
export interface AllegroClientSettings {
  apiUrl: string;
  authUrl: string;
  clientId: string;
  clientSecret: string;
  /** With one, tokens come from the refresh-token grant; else from client credentials. */
  refreshToken?: string;
  timeoutMs: number;
  state: SourceStateStore;
  log: FastifyBaseLogger;
  now?: () => number;
}

interface TokenResponse {
  access_token?: string;
  expires_in?: number;
  refresh_token?: string;
}

/**
 * Allegro REST client with OAuth2 (client credentials or refresh token). A 401 renews the token
 * once and repeats the request; other failures are thrown as {@link AllegroApiError}.
 */
export class AllegroClient {
  private readonly dispatcher = new Agent({ connections: 4, keepAliveTimeout: 30_000 });
  private readonly now: () => number;
  private accessToken?: { value: string; expiresAt: number };
  private readonly controller = new AbortController();

  constructor(private readonly settings: AllegroClientSettings) {
    this.now = settings.now ?? Date.now;
  }

  /** GETs `path` with `query` and returns the parsed JSON body. */
  async get(path: string, query: Record<string, string | string[] | undefined>): Promise<unknown> {
    const url = new URL(path, `${this.settings.apiUrl.replace(/\/+$/, '')}/`);
    for (const [name, value] of Object.entries(query)) {
      if (value === undefined) {
        continue;
      }
      for (const item of Array.isArray(value) ? value : [value]) {
        url.searchParams.append(name, item);
      }
    }
    let response = await this.send(url, await this.token());
    if (response.statusCode === 401) {
      await response.body.dump();
      this.settings.log.info({ path }, 'allegro responded 401, renewing the access token');
      this.accessToken = undefined;
      response = await this.send(url, await this.token());
    }
    const text = await response.body.text();
    if (response.statusCode < 200 || response.statusCode >= 300) {
      throw new AllegroApiError(
        response.statusCode,
        `GET ${url.pathname} answered ${response.statusCode}: ${text.slice(0, 300)}`,
        parseRetryAfter(response.headers['retry-after'], this.now()),
      );
    }
    return JSON.parse(text);
  }

  /** Aborts requests in flight and closes the connections. */
  async close(): Promise<void> {
    this.controller.abort();
    await this.dispatcher.close();
  }

  private async send(url: URL, token: string) {
    try {
      return await request(url, {
        method: 'GET',
        headers: { authorization: `Bearer ${token}`, accept: ALLEGRO_MEDIA_TYPE },
        dispatcher: this.dispatcher,
        headersTimeout: this.settings.timeoutMs,
        bodyTimeout: this.settings.timeoutMs,
        signal: this.controller.signal,
      });
    } catch (error) {
      throw new AllegroApiError(0, `GET ${url.pathname} failed: ${(error as Error).message}`);
    }
  }

  private async token(): Promise<string> {
    if (this.accessToken && this.accessToken.expiresAt - RENEW_BEFORE_MS > this.now()) {
      return this.accessToken.value;
    }
    const issued = await this.requestToken();
    if (!issued.access_token) {
      throw new AllegroApiError(0, 'the token response has no access_token');
    }
    this.accessToken = {
      value: issued.access_token,
      expiresAt: this.now() + (issued.expires_in ?? 3600) * 1000,
    };
    if (this.settings.refreshToken && issued.refresh_token) {
      await this.settings.state.set(
        REFRESH_TOKEN_KEY,
        JSON.stringify({ seed: this.seed(), token: issued.refresh_token }),
      );
    }
    this.settings.log.info({ expires_in: issued.expires_in }, 'obtained an allegro access token');
    return this.accessToken.value;
  }

  private async requestToken(): Promise<TokenResponse> {
    const form = new URLSearchParams();
    const refresh = await this.currentRefreshToken();
    if (refresh) {
      form.set('grant_type', 'refresh_token');
      form.set('refresh_token', refresh);
    } else {
      form.set('grant_type', 'client_credentials');
    }
    const basic = Buffer.from(`${this.settings.clientId}:${this.settings.clientSecret}`).toString(
      'base64',
    );
    const url = `${this.settings.authUrl.replace(/\/+$/, '')}/token`;
    let response: Awaited<ReturnType<typeof request>>;
    try {
      response = await request(url, {
        method: 'POST',
        headers: {
          authorization: `Basic ${basic}`,
          'content-type': 'application/x-www-form-urlencoded',
          accept: 'application/json',
        },
        body: form.toString(),
        dispatcher: this.dispatcher,
        headersTimeout: this.settings.timeoutMs,
        bodyTimeout: this.settings.timeoutMs,
        signal: this.controller.signal,
      });
    } catch (error) {
      throw new AllegroApiError(0, `token request failed: ${(error as Error).message}`);
    }
    const text = await response.body.text();
    if (response.statusCode !== 200) {
      // The body of a failed token request names the OAuth error, never a secret.
      throw new AllegroApiError(
        response.statusCode,
        `token request answered ${response.statusCode}: ${text.slice(0, 300)}`,
        parseRetryAfter(response.headers['retry-after'], this.now()),
      );
    }
    return JSON.parse(text) as TokenResponse;
  }

  /**
   * Returns the refresh token to use: the latest rotated one in the state store, unless the config's
   * token changed since it was stored (the operator authorised the account again).
   */
  private async currentRefreshToken(): Promise<string | undefined> {
    if (!this.settings.refreshToken) {
      return undefined;
    }
    const stored = await this.settings.state.get(REFRESH_TOKEN_KEY);
    if (stored) {
      const { seed, token } = JSON.parse(stored) as { seed: string; token: string };
      if (seed === this.seed()) {
        return token;
      }
    }
    return this.settings.refreshToken;
  }

  /** Digests the configured refresh token, so the stored state never contains it in clear. */
  private seed(): string {
    return createHash('sha256')
      .update(this.settings.refreshToken ?? '')
      .digest('hex');
  }
}
