import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { SqliteDeliveryStore } from '../core/delivery/sqlite-store.js';
import { SqliteCursorStore } from '../core/stores/sqlite-cursors.js';
import { openSqliteDatabase } from '../core/stores/sqlite-database.js';
import { SqliteIdempotencyStore } from '../core/stores/sqlite-idempotency.js';
import { SQLITE_MIGRATIONS } from '../core/stores/sqlite-migrations.js';
import { deliveryStoreSuite, sampleDelivery } from './stores/delivery-store-suite.js';

function temporaryFile(): { file: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'pactown-sqlite-'));
  return {
    file: join(dir, 'pactown.db'),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

deliveryStoreSuite('sqlite', async () => {
  const { file, remove } = temporaryFile();
  const store = new SqliteDeliveryStore(openSqliteDatabase(file));
  return {
    store,
    dispose: async () => {
      await store.close();
      remove();
    },
  };
});

test('sqlite database uses WAL and migrations', async (t) => {
  const { file, remove } = temporaryFile();
  t.after(remove);
  const handle = openSqliteDatabase(file);
  assert.equal(handle.db.pragma('journal_mode', { simple: true }), 'wal');
  assert.equal(handle.db.pragma('user_version', { simple: true }), SQLITE_MIGRATIONS.length);
  const store = new SqliteDeliveryStore(handle);
  const delivery = sampleDelivery();
  await store.enqueue(delivery);
  await store.close();

  const reopened = new SqliteDeliveryStore(openSqliteDatabase(file));
  assert.equal((await reopened.get(delivery.id))?.status, 'pending', 'data survives a reopen');
  await reopened.close();
});

test('sqlite enqueues of one turn commit together', async (t) => {
  const { file, remove } = temporaryFile();
  t.after(remove);
  const store = new SqliteDeliveryStore(openSqliteDatabase(file));
  t.after(() => store.close());
  const observer = new Database(file, { readonly: true });
  t.after(() => observer.close());
  const countRows = () =>
    (observer.prepare('SELECT COUNT(*) AS n FROM deliveries').get() as { n: number }).n;

  const deliveries = Array.from({ length: 40 }, () => sampleDelivery());
  const pending = deliveries.map((delivery) => store.enqueue(delivery));
  assert.equal(countRows(), 0, 'nothing is committed before the batch runs');
  const results = await Promise.all(pending);
  assert.equal(countRows(), 40, 'every enqueue is committed once its promise resolves');
  assert.ok(results.every((result) => result.status === 'queued'));
});

test('sqlite batch rejects only the failing write', async (t) => {
  const { file, remove } = temporaryFile();
  t.after(remove);
  const store = new SqliteDeliveryStore(openSqliteDatabase(file));
  t.after(() => store.close());
  const first = sampleDelivery();
  const clash = { ...sampleDelivery(), id: first.id };
  const last = sampleDelivery();
  const dedupe = { key: 'stripe:evt_same', ttlMs: 60_000 };

  const outcomes = await Promise.allSettled([
    store.enqueue(first, dedupe),
    store.enqueue(clash),
    store.enqueue(sampleDelivery(), dedupe),
    store.enqueue(last),
  ]);
  assert.deepEqual(outcomes[0], { status: 'fulfilled', value: { status: 'queued', id: first.id } });
  assert.equal(outcomes[1].status, 'rejected', 'a second delivery with the same id fails');
  assert.deepEqual(outcomes[2], {
    status: 'fulfilled',
    value: { status: 'duplicate', id: first.id },
  });
  assert.deepEqual(outcomes[3], { status: 'fulfilled', value: { status: 'queued', id: last.id } });
  assert.equal((await store.counts()).pending, 2, 'the failed write left nothing behind');
});

test('sqlite store commits queued writes on close', async (t) => {
  const { file, remove } = temporaryFile();
  t.after(remove);
  const store = new SqliteDeliveryStore(openSqliteDatabase(file));
  const delivery = sampleDelivery();
  const pending = store.enqueue(delivery);
  await store.close();
  assert.deepEqual(await pending, { status: 'queued', id: delivery.id });
  const reopened = new SqliteDeliveryStore(openSqliteDatabase(file));
  assert.equal((await reopened.get(delivery.id))?.status, 'pending');
  await reopened.close();
});

test('sqlite database rejects a newer schema', (t) => {
  const { file, remove } = temporaryFile();
  t.after(remove);
  const raw = new Database(file);
  raw.pragma(`user_version = ${SQLITE_MIGRATIONS.length + 1}`);
  raw.close();
  assert.throws(() => openSqliteDatabase(file), /schema version .* upgrade the gateway/);
});

test('sqlite handles share one connection', (t) => {
  const { file, remove } = temporaryFile();
  t.after(remove);
  const first = openSqliteDatabase(file);
  const second = openSqliteDatabase(file);
  assert.equal(first.db, second.db);
  first.close();
  assert.equal(second.db.open, true, 'the file stays open while a user remains');
  second.close();
  assert.equal(second.db.open, false);
});

test('sqlite idempotency store claims once per ttl', async (t) => {
  const { file, remove } = temporaryFile();
  t.after(remove);
  let now = 1_000;
  const store = new SqliteIdempotencyStore(openSqliteDatabase(file), () => now);
  assert.equal(await store.claim('a', 100), true);
  assert.equal(await store.claim('a', 100), false);
  assert.equal(store.size(), 1);
  now = 1_100;
  assert.equal(await store.claim('a', 100), true, 'an expired key is claimed again');
  await store.release('a');
  assert.equal(await store.claim('a', 100), true, 'a released key is claimed again');
  await store.close();
  const reopened = new SqliteIdempotencyStore(openSqliteDatabase(file), () => now);
  assert.equal(await reopened.claim('a', 100), false, 'claims survive a restart');
  await reopened.close();
});

test('sqlite cursor store keeps values', async (t) => {
  const { file, remove } = temporaryFile();
  t.after(remove);
  const store = new SqliteCursorStore(openSqliteDatabase(file));
  assert.equal(await store.get('x'), undefined);
  await store.set('x', '1');
  await store.set('x', '2');
  assert.equal(await store.get('x'), '2');
  await store.delete('x');
  assert.equal(await store.get('x'), undefined);
  await store.close();
});
