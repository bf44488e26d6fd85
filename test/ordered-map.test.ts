import assert from 'node:assert/strict';
import { test } from 'node:test';
import { InsertionOrderedMap } from '../core/index.js';

test('oldest follows insertion order', () => {
  const map = new InsertionOrderedMap<string, number>();
  assert.equal(map.oldest(), undefined);
  map.set('a', 1);
  map.set('b', 2);
  map.set('c', 3);
  assert.deepEqual(map.oldest(), ['a', 1]);
  map.set('a', 4);
  assert.deepEqual(map.oldest(), ['b', 2]);
  map.delete('b');
  assert.deepEqual(map.oldest(), ['c', 3]);
  map.delete('c');
  assert.deepEqual(map.oldest(), ['a', 4]);
  assert.equal(map.size, 1);
  assert.equal(map.get('a'), 4);
  assert.equal(map.get('b'), undefined);
});

test('random operations match a reference', () => {
  const map = new InsertionOrderedMap<number, number>();
  // The reference keeps keys in an array, oldest first, which is slow but clearly correct.
  const reference: { key: number; value: number }[] = [];
  let seed = 7;
  const random = (limit: number) => {
    seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
    return seed % limit;
  };
  // Enough operations for V8 to rebuild the table many times, with few keys and with many.
  for (let step = 0; step < 60_000; step++) {
    const keys = step < 30_000 ? 50 : 20_000;
    const key = random(keys);
    const operation = random(10);
    if (operation < 6) {
      const index = reference.findIndex((entry) => entry.key === key);
      if (index !== -1) {
        reference.splice(index, 1);
      }
      reference.push({ key, value: step });
      map.set(key, step);
    } else if (operation < 8) {
      const index = reference.findIndex((entry) => entry.key === key);
      if (index !== -1) {
        reference.splice(index, 1);
      }
      assert.equal(map.delete(key), index !== -1, `step ${step}`);
    } else {
      const oldest = reference.shift();
      const found = map.oldest();
      assert.deepEqual(found, oldest && [oldest.key, oldest.value], `step ${step}`);
      if (found) {
        map.delete(found[0]);
      }
    }
    assert.equal(map.size, reference.length, `step ${step}`);
  }
  for (const entry of reference) {
    assert.equal(map.get(entry.key), entry.value);
  }
});
