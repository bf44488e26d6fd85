import assert from 'node:assert/strict';
import { test } from 'node:test';
import { etagMatches, parseCacheControl, storableLifetime, varyNames } from './freshness.js';
import { normalizeEncoding, sortQuery } from './key.js';

const NOW = Date.parse('2026-01-01T12:00:00Z');
const HOUR = 3_600_000;

test('freshness lifetime precedence and ceiling', () => {
  const cases: [string, Record<string, string>, number | undefined][] = [
    ['route ttl without upstream rules', {}, HOUR],
    ['max-age below the ttl', { 'cache-control': 'max-age=60' }, 60_000],
    ['max-age above the ttl', { 'cache-control': 'max-age=86400' }, HOUR],
    ['s-maxage before max-age', { 'cache-control': 'max-age=60, s-maxage=120' }, 120_000],
    [
      'max-age before Expires',
      { 'cache-control': 'max-age=30', expires: new Date(NOW + 600_000).toUTCString() },
      30_000,
    ],
    [
      'Expires minus Date',
      {
        date: new Date(NOW - 10_000).toUTCString(),
        expires: new Date(NOW + 290_000).toUTCString(),
      },
      300_000,
    ],
    ['invalid Expires is stale', { expires: 'yesterday' }, undefined],
    ['Age is subtracted', { 'cache-control': 'max-age=100', age: '40' }, 60_000],
    ['Age past the lifetime', { 'cache-control': 'max-age=100', age: '100' }, undefined],
    ['invalid max-age is stale', { 'cache-control': 'max-age=soon' }, undefined],
    ['no-store', { 'cache-control': 'no-store' }, undefined],
    ['private', { 'cache-control': 'private, max-age=600' }, undefined],
    ['private with fields', { 'cache-control': 'private="set-cookie", max-age=600' }, undefined],
    ['no-cache', { 'cache-control': 'no-cache' }, undefined],
    ['public', { 'cache-control': 'public, max-age=600' }, 600_000],
  ];
  for (const [name, headers, expected] of cases) {
    assert.equal(storableLifetime(headers, HOUR, NOW), expected, name);
  }
});

test('freshness parses cache-control directives', () => {
  const directives = parseCacheControl(['Public, MAX-AGE=60', 'no-transform, s-maxage="90"']);
  assert.equal(directives.get('public'), '');
  assert.equal(directives.get('max-age'), '60');
  assert.equal(directives.get('s-maxage'), '90');
  assert.equal(directives.get('no-transform'), '');
});

test('freshness vary names', () => {
  assert.deepEqual(varyNames({}), []);
  assert.deepEqual(varyNames({ vary: 'Accept-Encoding, accept-language, Accept-Encoding' }), [
    'accept-encoding',
    'accept-language',
  ]);
  assert.equal(varyNames({ vary: 'Accept, *' }), null);
});

test('freshness etag comparison', () => {
  assert.equal(etagMatches('"a"', '"a"'), true);
  assert.equal(etagMatches('W/"a"', '"a"'), true, 'If-None-Match uses weak comparison');
  assert.equal(etagMatches('"b", "a"', 'W/"a"'), true);
  assert.equal(etagMatches('*', '"a"'), true);
  assert.equal(etagMatches('"b"', '"a"'), false);
  assert.equal(etagMatches(undefined, '"a"'), false);
  assert.equal(etagMatches('"a"', undefined), false);
});

test('cache key normalisation', () => {
  assert.equal(normalizeEncoding('/a%7eb%2fc'), '/a~b%2Fc');
  assert.equal(normalizeEncoding('/plain'), '/plain');
  assert.equal(sortQuery('b=2&a=1&&a=0'), 'a=1&a=0&b=2');
  assert.equal(sortQuery('q=%7e'), 'q=~');
  assert.equal(sortQuery(''), '');
  assert.equal(sortQuery('page=1&sort=price'), 'page=1&sort=price', 'a sorted query is kept');
  assert.equal(sortQuery('a=2&a=1&b'), 'a=2&a=1&b', 'repeated names keep their order');
  assert.equal(sortQuery('b=1&a'), 'a&b=1', 'a name without a value sorts too');
  assert.equal(sortQuery('ab=1&a=2'), 'a=2&ab=1');
  assert.equal(sortQuery('a=1&'), 'a=1', 'an empty pair is dropped');
  assert.equal(sortQuery('a=b=c&a'), 'a=b=c&a');
});
