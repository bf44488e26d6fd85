import type { FastifyBaseLogger } from 'fastify';
import WebSocket from 'ws';

/** Close code 1001, Going Away (RFC 6455 section 7.4.1). */
export const CLOSE_GOING_AWAY = 1001;
/** Close code 1014, Bad Gateway (IANA WebSocket Close Code Number Registry). */
export const CLOSE_BAD_GATEWAY = 1014;
/** Code that ws reports when a close frame carried no status code. */
const NO_STATUS_RECEIVED = 1005;
/** Code that ws reports when the connection ended without a close frame. */
const ABNORMAL_CLOSURE = 1006;

/**
 * Bytes waiting to be written to one side above which the gateway stops reading from the other
 * side, so a slow reader cannot make the gateway buffer without bound.
 */
const BACKPRESSURE_BYTES = 1024 * 1024;

type Side = 'client' | 'upstream';

/** Settings of one link. */
export interface LinkOptions {
  route: string;
  /** Milliseconds without a frame in either direction before both sides are closed; 0 for never. */
  idleTimeoutMs: number;
  log: FastifyBaseLogger;
  /** Runs once, when both sides have closed. */
  onEnd(link: WebSocketLink): void;
}

/**
 * Relays frames between a client WebSocket and its upstream: messages (text and binary), ping,
 * pong and close. When one side closes, the other is closed with the same code and reason. When
 * one side fails or drops without a close frame, the other gets 1014 (upstream failed) or 1001
 * (client went away).
 */
export class WebSocketLink {
  private ended = false;
  private readonly failed = new Set<Side>();
  private readonly idleTimer?: NodeJS.Timeout;

  constructor(
    readonly client: WebSocket,
    readonly upstream: WebSocket,
    private readonly options: LinkOptions,
  ) {
    if (options.idleTimeoutMs > 0) {
      this.idleTimer = setTimeout(() => this.closeIdle(), options.idleTimeoutMs);
      this.idleTimer.unref();
    }
    this.relay('client', client, upstream);
    this.relay('upstream', upstream, client);
    upstream.resume();
  }

  /** Closes both sides with `code` and `reason`, as shutdown does. */
  close(code: number, reason: string): void {
    closeSide(this.client, code, reason);
    closeSide(this.upstream, code, reason);
  }

  private relay(side: Side, source: WebSocket, target: WebSocket): void {
    const resumeSource = () => {
      if (source.isPaused && target.bufferedAmount < BACKPRESSURE_BYTES) {
        source.resume();
      }
    };
    source.on('message', (data: Buffer, isBinary: boolean) => {
      this.touch();
      if (target.readyState !== WebSocket.OPEN) {
        return;
      }
      target.send(data, { binary: isBinary }, resumeSource);
      if (target.bufferedAmount >= BACKPRESSURE_BYTES) {
        source.pause();
      }
    });
    source.on('ping', (data: Buffer) => {
      this.touch();
      if (target.readyState === WebSocket.OPEN) {
        target.ping(data);
      }
    });
    source.on('pong', (data: Buffer) => {
      this.touch();
      if (target.readyState === WebSocket.OPEN) {
        target.pong(data);
      }
    });
    source.on('error', (error: Error & { code?: string }) => {
      this.failed.add(side);
      this.options.log.warn(
        { route: this.options.route, side, cause: error.code ?? error.message },
        'websocket connection failed',
      );
    });
    source.on('close', (code: number, reason: Buffer) => this.sideClosed(side, code, reason));
  }

  private sideClosed(side: Side, code: number, reason: Buffer): void {
    const other = side === 'client' ? this.upstream : this.client;
    this.options.log.debug({ route: this.options.route, side, code }, 'websocket side closed');
    if (other.isPaused) {
      // A paused side cannot read the close frame that replies to the one sent next.
      other.resume();
    }
    if (other.readyState === WebSocket.OPEN) {
      const forwarded = this.forwardedClose(side, code, reason);
      closeSide(other, forwarded.code, forwarded.reason);
    }
    if (
      this.client.readyState === WebSocket.CLOSED &&
      this.upstream.readyState === WebSocket.CLOSED
    ) {
      this.end();
    }
  }

  /** Returns the close code and reason that `side` closing passes on to the other side. */
  private forwardedClose(side: Side, code: number, reason: Buffer) {
    if (this.failed.has(side) || code === ABNORMAL_CLOSURE) {
      return side === 'upstream'
        ? { code: CLOSE_BAD_GATEWAY, reason: 'upstream connection failed' }
        : { code: CLOSE_GOING_AWAY, reason: 'client connection failed' };
    }
    if (code === NO_STATUS_RECEIVED) {
      return { code: undefined, reason: undefined };
    }
    return { code, reason };
  }

  private touch(): void {
    this.idleTimer?.refresh();
  }

  private closeIdle(): void {
    this.options.log.info({ route: this.options.route }, 'closing an idle websocket connection');
    this.close(CLOSE_GOING_AWAY, 'idle timeout');
  }

  private end(): void {
    if (!this.ended) {
      this.ended = true;
      clearTimeout(this.idleTimer);
      this.options.onEnd(this);
    }
  }
}

function closeSide(socket: WebSocket, code?: number, reason?: string | Buffer): void {
  if (socket.readyState === WebSocket.OPEN) {
    socket.close(code, reason);
  }
}
