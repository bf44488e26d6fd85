import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { type TestContext, test } from 'node:test';
import { pino } from 'pino';
import { builtinLoadOptions } from '../cli/builtins.js';
import { createGateway, type FastifyBaseLogger, loadConfig } from '../core/index.js';
import type { RedisSettings } from '../core/stores/redis-connection.js';
import { RedisCursorStore } from '../core/stores/redis-cursors.js';
import { FakeAllegro, orderEvents } from './allegro-fake.js';
import { waitFor } from './delivery-helpers.js';
import { startUpstream, type TestUpstream, writeConfig } from './helpers.js';
import { leaseFor, redisForTest } from './redis-helpers.js';

function sourceYaml(settings: RedisSettings, fake: FakeAllegro, target: TestUpstream): string {
  return `
stores:
  redis:
    url: ${settings.url}
    key_prefix: "${settings.keyPrefix}"
    # Long enough to outlast the event-loop pause of compiling the second config on a busy host.
    source_lock_ttl: 9s
queue:
  poll_interval: 20ms
routes: []
sources:
  - name: shop
    source: allegro
    target: ${target.url}/allegro
    options:
      api_url: ${fake.url}
      auth_url: ${fake.url}/auth/oauth
      client_id: ${fake.clientId}
      client_secret: ${fake.clientSecret}
      start: oldest
      interval: 30ms
      limit: 2
`;
}

/** An in-process gateway whose log lines are kept; `close` also runs after the test. */
interface LoggedGateway {
  messages: string[];
  close(): Promise<void>;
}

async function startGateway(t: TestContext, yaml: string): Promise<LoggedGateway> {
  const loaded = await loadConfig(writeConfig(yaml), builtinLoadOptions({}));
  const messages: string[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split('\n').filter(Boolean)) {
        messages.push(String(JSON.parse(line).msg));
      }
      done();
    },
  });
  const logger = pino({ level: 'info' }, stream) as unknown as FastifyBaseLogger;
  const gateway = await createGateway(loaded, { logger, env: {} });
  let closed = false;
  const close = async () => {
    if (!closed) {
      closed = true;
      await gateway.close();
    }
  };
  t.after(close);
  return { messages, close };
}

const TOOK = 'took the source lock; polling on this instance';
const WAITING = 'another instance holds the source lock and polls';

test('one instance polls a shared source', { timeout: 60_000 }, async (t) => {
  const settings = redisForTest(t);
  if (!settings) return;
  const fake = await new FakeAllegro().start();
  const target = await startUpstream();
  t.after(async () => {
    await fake.close();
    await target.close();
  });
  const events = orderEvents('o', 6);
  fake.orders = events.slice(0, 4);
  const yaml = sourceYaml(settings, fake, target);
  const first = await startGateway(t, yaml);
  await waitFor(() => first.messages.includes(TOOK), 20_000, 'the first instance to take the lock');
  const second = await startGateway(t, yaml);
  const delivered = () => target.requests.map((request) => request.headers['x-allegro-event-id']);

  await waitFor(() => delivered().length === 4, 20_000, 'the first four events');
  await waitFor(() => second.messages.includes(WAITING), 20_000, 'the second instance to wait');
  assert.ok(!second.messages.includes(TOOK), 'only the lock holder polls');

  // Closing the holder frees its lock; the other instance takes over from the shared cursor.
  await first.close();
  const before = fake.journalRequests().length;
  fake.orders.push(...events.slice(4));
  await waitFor(() => delivered().length === 6, 20_000, 'the events added after the handover');
  assert.ok(second.messages.includes(TOOK), 'the other instance took over');
  assert.deepEqual(
    delivered(),
    events.map((event) => event.id),
    'each event is delivered once, in order',
  );
  const [takeover] = fake.journalRequests().slice(before);
  assert.equal(takeover?.query.get('from'), events[3].id, 'it polls from the shared cursor');

  const cursors = new RedisCursorStore(leaseFor(settings));
  t.after(() => cursors.close());
  assert.equal(await cursors.get('source:shop:order:cursor'), events[5].id);
});
