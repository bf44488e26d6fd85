import type { FastifyInstance } from 'fastify';
import type { GatewayConfig } from '../config/types.js';
import type { GatewayStores } from '../plugin-api.js';
import type { PluginRegistry } from '../registry.js';
import type { GatewayStats } from '../server/stats.js';
import { deliveryEnabled, deliveryRuntimeFor, forgetDeliveryRuntime } from './runtime.js';
import { type RunningSources, startSources } from './sources.js';

/** Parts of the gateway being built that {@link attachDelivery} uses. */
export interface DeliveryAttachment {
  config: GatewayConfig;
  registry: PluginRegistry;
  stats: GatewayStats;
  stores: GatewayStores;
}

/**
 * Creates the delivery runtime of a gateway that queues anything, and ties it to the app's life:
 * the worker and the event sources start once the app is ready. On close the sources stop first
 * (no new events), then the worker, after in-flight requests ended, lets its attempts finish for
 * up to `server.shutdown_timeout` and returns the rest to the queue.
 */
export function attachDelivery(app: FastifyInstance, attachment: DeliveryAttachment): void {
  const { config } = attachment;
  if (!deliveryEnabled(config)) {
    return;
  }
  const runtime = deliveryRuntimeFor(config, app.log, attachment.stats);
  let sources: RunningSources | undefined;
  app.addHook('onReady', async () => {
    await runtime.start();
    sources = await startSources({
      ...attachment,
      log: app.log,
      cursors: runtime.cursors,
      sourceLock: runtime.sourceLock,
    });
  });
  app.addHook('preClose', async () => {
    await sources?.stop();
  });
  app.addHook('onClose', async () => {
    await runtime.stop(config.server.shutdownTimeout);
    await runtime.close();
    forgetDeliveryRuntime(config);
  });
}
