import type { Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import type { FastifyBaseLogger } from 'fastify';
import { CLOSE_GOING_AWAY, type WebSocketLink } from './websocket-link.js';

/** Milliseconds between two checks for in-flight HTTP requests during shutdown. */
const DRAIN_POLL_MS = 25;

/**
 * The WebSocket connections of one gateway instance: upgrades being set up and links being
 * relayed, counted per route for `ws_max_connections` and closed together at shutdown.
 */
export class WebSocketConnections {
  private readonly links = new Set<WebSocketLink>();
  private readonly handshakes = new Set<AbortController>();
  private readonly perRoute = new Map<string, number>();
  /** Client sockets admitted to an upgrade that have not closed yet. */
  private sockets = 0;
  private shuttingDown = false;

  /** Whether shutdown has begun, after which no upgrade is admitted. */
  get closing(): boolean {
    return this.shuttingDown;
  }

  /** Admitted client sockets of `route` that are still open, set up or relayed. */
  count(route: string): number {
    return this.perRoute.get(route) ?? 0;
  }

  /** Counts `socket` against `route` until the socket closes. */
  admit(socket: Duplex, route: string): void {
    this.sockets += 1;
    this.perRoute.set(route, this.count(route) + 1);
    socket.once('close', () => {
      this.sockets -= 1;
      this.perRoute.set(route, this.count(route) - 1);
    });
  }

  /** Starts tracking one upstream handshake; the signal aborts when the client leaves or at shutdown. */
  startHandshake(socket: Duplex): AbortController {
    const controller = new AbortController();
    const abort = () => controller.abort();
    socket.once('close', abort);
    controller.signal.addEventListener('abort', () => socket.off('close', abort), { once: true });
    this.handshakes.add(controller);
    return controller;
  }

  finishHandshake(controller: AbortController): void {
    this.handshakes.delete(controller);
  }

  add(link: WebSocketLink): void {
    this.links.add(link);
  }

  remove(link: WebSocketLink): void {
    this.links.delete(link);
  }

  /**
   * Rejects new upgrades, waits until the HTTP requests in flight on `server` have finished (at
   * most `timeoutMs`), then closes every WebSocket with 1001 Going Away. A peer that does not
   * respond to the close frame is disconnected after the links' close timeout.
   */
  async shutdown(server: Server, timeoutMs: number, log: FastifyBaseLogger): Promise<void> {
    this.shuttingDown = true;
    for (const handshake of this.handshakes) {
      handshake.abort();
    }
    const drained = await waitForHttpRequests(server, () => this.sockets, timeoutMs);
    if (!drained) {
      log.warn(
        { timeoutMs },
        'http requests still in flight, closing websocket connections anyway',
      );
    }
    if (this.links.size > 0) {
      log.info({ connections: this.links.size }, 'closing websocket connections');
    }
    for (const link of this.links) {
      link.close(CLOSE_GOING_AWAY, 'gateway shutting down');
    }
  }
}

/**
 * Resolves true once `server` has no connection left besides the `upgraded` WebSocket sockets,
 * or false after `timeoutMs`. Idle keep-alive connections are closed on each check, because
 * Node's `server.close()` closes only those idle when it is called.
 */
async function waitForHttpRequests(
  server: Server,
  upgraded: () => number,
  timeoutMs: number,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    server.closeIdleConnections();
    const open = await new Promise<number>((resolve) =>
      server.getConnections((error, count) => resolve(error ? 0 : count)),
    );
    if (open <= upgraded()) {
      return true;
    }
    await sleep(DRAIN_POLL_MS);
  }
  return false;
}
