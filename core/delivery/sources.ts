import type { FastifyBaseLogger } from 'fastify';
import type { GatewayConfig, RouteConfig } from '../config/types.js';
import { durationSchema } from '../config/units.js';
import { compileSchema, createAjv } from '../config/validate.js';
import type {
  EventSource,
  EventSourceContext,
  GatewayStores,
  JsonSchema,
  SourceEvent,
  SourceStateStore,
} from '../plugin-api.js';
import type { PluginRegistry } from '../registry.js';
import type { GatewayStats } from '../server/stats.js';
import type { DeliveryOutcome, VerifiedEvent } from '../webhooks/delivery.js';
import { exclusiveSource, type SourceLock } from './redis-sources.js';
import type { CursorStore } from './store.js';

/** One entry of the `sources:` list, as written. */
interface SourceEntry {
  name?: string;
  source: string;
  target: string;
  delivery?: string;
  options?: Record<string, unknown>;
  [key: string]: unknown;
}

/**
 * Schema of the top-level `sources:` list. Its `items` is a getter because the section is
 * registered before the plugins are, and the entry schema lists every loaded event-source
 * plugin with its `optionsSchema`, read when the config schema is compiled.
 */
export function sourcesSectionSchema(registry: PluginRegistry): JsonSchema {
  return {
    type: 'array',
    get items() {
      return sourceEntrySchema(registry);
    },
  };
}

function sourceEntrySchema(registry: PluginRegistry): JsonSchema {
  const plugins = registry.list('event-source');
  const modes = registry.listDeliveryModes();
  const modeProperties = Object.assign({}, ...modes.map((mode) => mode.routeProperties ?? {}));
  const schema: JsonSchema = {
    type: 'object',
    additionalProperties: false,
    required: ['source', 'target'],
    properties: {
      ...modeProperties,
      name: {
        type: 'string',
        pattern: '^[a-z0-9][a-z0-9._-]*$',
        'x-expected': 'a lower-case name such as allegro-orders',
      },
      source:
        plugins.length > 0
          ? { enum: plugins.map((plugin) => plugin.name) }
          : {
              type: 'string',
              pattern: '^(?!)',
              'x-expected': 'a loaded event-source plugin, but none is loaded',
            },
      target: {
        type: 'string',
        pattern: '^https?://[^\\s/?#]+(/[^\\s?#]*)?(\\?[^\\s#]*)?$',
        'x-expected': 'an http:// or https:// URL such as http://127.0.0.1:3000/events',
      },
      delivery: { enum: modes.map((mode) => mode.name) },
      dedupe_window: durationSchema,
      options: { type: 'object' },
    },
  };
  // Each plugin's options schema applies when `source:` names that plugin.
  if (plugins.length > 0) {
    schema.allOf = plugins.map((plugin) => ({
      if: { type: 'object', required: ['source'], properties: { source: { const: plugin.name } } },
      then: { properties: { options: plugin.optionsSchema ?? { type: 'object' } } },
    }));
  }
  return schema;
}

/** Parts of the gateway that {@link startSources} uses. */
export interface SourcesRuntime {
  config: GatewayConfig;
  registry: PluginRegistry;
  stores: GatewayStores;
  stats: GatewayStats;
  log: FastifyBaseLogger;
  cursors: CursorStore;
  /** The lock of a source by name. With one, only the instance holding it polls. */
  sourceLock?: (name: string) => SourceLock;
  now?: () => number;
}

/** The running event sources of a gateway. */
export interface RunningSources {
  stop(): Promise<void>;
}

/** Name of the route that a source's events carry: `source:<name>`. */
export function sourceRouteName(name: string): string {
  return `source:${name}`;
}

/**
 * Creates and starts every entry of `sources:`. Each source feeds its events through the same
 * delivery mode (de-duplication and queue) as a webhook route with the entry's keys.
 */
export async function startSources(runtime: SourcesRuntime): Promise<RunningSources> {
  const entries = (runtime.config.raw.sources ?? []) as SourceEntry[];
  checkNames(entries);
  const started: { source: EventSource; closeTasks: (() => Promise<void> | void)[] }[] = [];
  const stopAll = async () => {
    for (const { source, closeTasks } of started.reverse()) {
      await source.stop();
      for (const task of closeTasks) {
        await task();
      }
    }
  };
  try {
    for (const [index, entry] of entries.entries()) {
      started.push(await startSource(runtime, entry, index));
    }
  } catch (error) {
    await stopAll();
    throw error;
  }
  return { stop: stopAll };
}

function checkNames(entries: SourceEntry[]): void {
  const seen = new Set<string>();
  for (const [index, entry] of entries.entries()) {
    const name = entry.name ?? entry.source;
    if (seen.has(name)) {
      throw new Error(
        `sources[${index}]: another source is already named "${name}"; give each one its own name:`,
      );
    }
    seen.add(name);
  }
}

async function startSource(runtime: SourcesRuntime, entry: SourceEntry, index: number) {
  const name = entry.name ?? entry.source;
  const plugin = runtime.registry.get('event-source', entry.source);
  if (!plugin) {
    throw new Error(`sources[${index}]: event-source plugin "${entry.source}" is not loaded`);
  }
  const log = runtime.log.child({ source: name });
  const route: RouteConfig = {
    path: sourceRouteName(name),
    kind: 'source',
    index,
    policies: [],
    raw: entry,
  };
  const closeTasks: (() => Promise<void> | void)[] = [];
  const accept = await prepareDelivery(runtime, route, log, closeTasks);

  const options = validatedOptions(plugin.optionsSchema, entry.options ?? {}, index);
  const context: EventSourceContext = {
    log,
    stats: runtime.stats,
    configDir: runtime.config.dir,
    registry: runtime.registry,
    stores: runtime.stores,
    sourceName: name,
    state: scopedState(runtime.cursors, `source:${name}:`),
  };
  const create = () => plugin.create(options, context);
  const lock = runtime.sourceLock?.(name);
  const source = lock ? exclusiveSource(create, lock, log) : await create();
  const now = runtime.now ?? Date.now;
  await source.start((events) => emitBatch(events, { accept, entry, name, route, now }));
  log.info(
    { plugin: plugin.name, target: entry.target, delivery: entry.delivery ?? 'queue' },
    'event source started',
  );
  return { source, closeTasks };
}

/** Prepares the entry's delivery mode, as a webhook route with the same keys would. */
async function prepareDelivery(
  runtime: SourcesRuntime,
  route: RouteConfig,
  log: FastifyBaseLogger,
  closeTasks: (() => Promise<void> | void)[],
) {
  const modeName = (route.raw.delivery as string | undefined) ?? 'queue';
  const mode = runtime.registry.deliveryMode(modeName);
  if (!mode) {
    throw new Error(`sources[${route.index}]: delivery mode "${modeName}" is not registered`);
  }
  return mode.prepare({
    config: runtime.config,
    route,
    stores: runtime.stores,
    stats: runtime.stats,
    log,
    onClose: (task) => closeTasks.push(task),
  });
}

// The schema already checked the options when the config loaded; this fills in their defaults.
function validatedOptions(
  schema: JsonSchema | undefined,
  options: Record<string, unknown>,
  index: number,
) {
  const copy = structuredClone(options);
  const ajv = createAjv();
  const validate = compileSchema(ajv, schema ?? { type: 'object' });
  if (!validate(copy)) {
    throw new Error(`sources[${index}].options: ${ajv.errorsText(validate.errors)}`);
  }
  return copy;
}

function scopedState(store: CursorStore, prefix: string): SourceStateStore {
  return {
    get: (key) => store.get(prefix + key),
    set: (key, value) => store.set(prefix + key, value),
    delete: (key) => store.delete(prefix + key),
  };
}

interface EmitContext {
  accept: (event: VerifiedEvent) => Promise<DeliveryOutcome>;
  entry: SourceEntry;
  name: string;
  route: RouteConfig;
  now: () => number;
}

/** Hands each event to the delivery mode in order; rejects on the first one not accepted. */
async function emitBatch(events: SourceEvent[], context: EmitContext): Promise<void> {
  for (const event of events) {
    const outcome = await context.accept({
      provider: context.entry.source,
      route: context.route.path,
      eventId: event.id,
      eventType: event.type,
      body: event.body,
      headers: { ...event.headers },
      receivedAt: context.now(),
      target: context.entry.target,
    });
    if (outcome.status < 200 || outcome.status >= 300) {
      throw new Error(
        `event ${event.id} of source ${context.name} was not accepted (status ${outcome.status})`,
      );
    }
  }
}
