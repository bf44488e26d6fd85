import { existsSync } from 'node:fs';
import { pino } from 'pino';
import { DeliveryFilterError } from '../../core/delivery/errors.js';
import {
  listDeliveries,
  parseDeliveryFilter,
  parsePage,
  replayDeliveries,
  replayDelivery,
  showDelivery,
} from '../../core/delivery/operations.js';
import { openRedisDeliveryStore } from '../../core/delivery/redis-backend.js';
import { readStorageSettings } from '../../core/delivery/settings.js';
import { SqliteDeliveryStore } from '../../core/delivery/sqlite-store.js';
import type { DeliveryStore } from '../../core/delivery/store.js';
import { configPath, type FastifyBaseLogger, loadConfig } from '../../core/index.js';
import { REDACTED_LOG_PATHS } from '../../core/log-fields.js';
import { openSqliteDatabase } from '../../core/stores/sqlite-database.js';
import { builtinLoadOptions } from '../builtins.js';
import { type Command, parseCommandArgs, UsageError } from '../command.js';

const FILTER_OPTIONS = {
  config: { type: 'string', short: 'c' },
  status: { type: 'string' },
  provider: { type: 'string' },
  target: { type: 'string' },
  route: { type: 'string' },
  since: { type: 'string' },
  until: { type: 'string' },
  limit: { type: 'string' },
  cursor: { type: 'string' },
  json: { type: 'boolean' },
} as const;

type Values = Record<string, string | boolean | undefined>;

/** Opens the delivery store named by the config's `storage:` section, without creating one. */
async function openStore(values: Values): Promise<DeliveryStore> {
  const file = configPath(values.config as string | undefined);
  // Only the storage and store settings matter here, so variables of routes (secrets, targets)
  // need not be set on the machine where an operator inspects the queue.
  const loaded = await loadConfig(file, {
    ...builtinLoadOptions(),
    unsetAllowed: (path) => !/^(storage|stores|queue)(\.|$)/.test(path),
  });
  // With stores.delivery on Redis the queue lives there, shared by every instance.
  const log = pino(
    { level: 'warn', redact: { paths: REDACTED_LOG_PATHS, censor: '***' } },
    pino.destination(2),
  ) as unknown as FastifyBaseLogger;
  const redis = openRedisDeliveryStore(loaded.config, log);
  if (redis) {
    return redis;
  }
  const storage = readStorageSettings(loaded.config);
  if (!existsSync(storage.file)) {
    throw new UsageError(
      `no delivery store at ${storage.file}; start the gateway once, or check storage.path in ${file}`,
    );
  }
  return new SqliteDeliveryStore(openSqliteDatabase(storage.file, storage.sqlite));
}

function filterValues(values: Values): Record<string, unknown> {
  const { config: _config, json: _json, ...rest } = values;
  return rest;
}

async function list(store: DeliveryStore, values: Values): Promise<number> {
  const input = filterValues(values);
  const result = await listDeliveries(store, parseDeliveryFilter(input), parsePage(input));
  if (values.json) {
    console.log(JSON.stringify(result, null, 2));
    return 0;
  }
  for (const delivery of result.deliveries) {
    const when = String(delivery.received_at);
    console.log(
      `${delivery.id}  ${String(delivery.status).padEnd(9)} ${when}  ${String(delivery.provider).padEnd(10)} attempts=${delivery.attempts}  ${delivery.target}`,
    );
  }
  if (result.next_cursor) {
    console.log(`more: pass --cursor ${result.next_cursor}`);
  }
  return 0;
}

async function show(store: DeliveryStore, id: string | undefined): Promise<number> {
  if (!id) {
    throw new UsageError('show takes a delivery ID');
  }
  const shown = await showDelivery(store, id);
  if (!shown) {
    console.error(`no delivery has id "${id}"`);
    return 1;
  }
  console.log(JSON.stringify(shown, null, 2));
  return 0;
}

async function replay(
  store: DeliveryStore,
  id: string | undefined,
  values: Values,
): Promise<number> {
  if (id) {
    const outcome = await replayDelivery(store, id, Date.now());
    if (outcome === 'replayed') {
      console.log(`replayed ${id}; the running gateway sends it within queue.poll_interval`);
      return 0;
    }
    console.error(
      outcome === 'not_found'
        ? `no delivery has id "${id}"`
        : `delivery "${id}" has an attempt in flight; replay it after the attempt ends`,
    );
    return 1;
  }
  const count = await replayDeliveries(
    store,
    parseDeliveryFilter(filterValues(values)),
    Date.now(),
  );
  console.log(`replayed ${count} ${count === 1 ? 'delivery' : 'deliveries'}`);
  return 0;
}

export const deliveriesCommand: Command = {
  name: 'deliveries',
  summary: 'list, show or replay queued deliveries',
  help: `Usage: pactown deliveries list [filters] [--limit N] [--cursor C] [--json]
       pactown deliveries show ID
       pactown deliveries replay ID
       pactown deliveries replay FILTERS

Reads the delivery store of a config (--config FILE, else $ROUTES_CONFIG, else ./routes.yaml)
directly: its SQLite file, or Redis when stores.delivery is redis or bullmq. It works whether the gateway
runs or not, and a running gateway sends replayed deliveries within queue.poll_interval.

Filters: --status pending|in_flight|delivered|dead, --provider NAME, --target URL,
--route PATH, --since TIME, --until TIME (ISO 8601 or milliseconds since the epoch).
Replay by filter needs at least one filter.`,
  async run(args) {
    const { values, positionals } = parseCommandArgs(args, FILTER_OPTIONS);
    const [action, id, ...extra] = positionals;
    if (!['list', 'show', 'replay'].includes(action ?? '') || extra.length > 0) {
      throw new UsageError('expected list, show ID or replay ID|FILTERS');
    }
    const store = await openStore(values);
    try {
      if (action === 'list') {
        return await list(store, values);
      }
      if (action === 'show') {
        return await show(store, id);
      }
      return await replay(store, id, values);
    } catch (error) {
      if (error instanceof DeliveryFilterError) {
        throw new UsageError(error.message);
      }
      if (isRedisFailure(error)) {
        console.error(
          `reading the delivery store failed: ${(error as Error).message}; check that Redis responds at stores.redis.url`,
        );
        return 1;
      }
      throw error;
    } finally {
      await store.close();
    }
  },
};

/** Checks whether an error comes from ioredis: a refused connection, a reply error or a timeout. */
function isRedisFailure(error: unknown): boolean {
  const name = (error as Error)?.name ?? '';
  const code = (error as NodeJS.ErrnoException)?.code ?? '';
  const message = (error as Error)?.message ?? '';
  return (
    ['MaxRetriesPerRequestError', 'ReplyError'].includes(name) ||
    ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT'].includes(code) ||
    /^(Connection is closed|Command timed out|Stream isn't writeable)/.test(message)
  );
}
