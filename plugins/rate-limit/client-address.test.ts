import assert from 'node:assert/strict';
import { test } from 'node:test';
import { clientAddressKey } from './client-address.js';

test('client address key keeps IPv4 addresses apart', () => {
  assert.equal(clientAddressKey('203.0.113.7'), '203.0.113.7');
  assert.equal(clientAddressKey('127.0.0.1'), '127.0.0.1');
});

test('client address key unwraps IPv4 mapped into IPv6', () => {
  for (const mapped of [
    '::ffff:203.0.113.7',
    '::FFFF:203.0.113.7',
    '0:0:0:0:0:ffff:203.0.113.7',
    '0000:0000:0000:0000:0000:ffff:cb00:7107',
    '::ffff:cb00:7107',
  ]) {
    assert.equal(clientAddressKey(mapped), '203.0.113.7', mapped);
  }
});

test('client address key counts IPv6 clients by their /64 network', () => {
  const network = '2001:db8:0:7::/64';
  for (const address of [
    '2001:db8:0:7::1',
    '2001:db8:0:7:ffff:ffff:ffff:ffff',
    '2001:0DB8:0000:0007:0000:0000:0000:0042',
    '2001:db8::7:1:2:3:4',
    '2001:db8:0:7::1%eth0',
    '2001:db8:0:7:0:0:192.0.2.1',
  ]) {
    assert.equal(clientAddressKey(address), network, address);
  }
  assert.equal(clientAddressKey('2001:db8:0:8::1'), '2001:db8:0:8::/64');
  assert.equal(clientAddressKey('::1'), '0:0:0:0::/64');
  assert.equal(clientAddressKey('::'), '0:0:0:0::/64');
  assert.equal(clientAddressKey('fe80::1:2:3:4'), 'fe80:0:0:0::/64');
  assert.equal(clientAddressKey('::2:3:4:5:6:7:8'), '0:2:3:4::/64');
});

test('client address key keeps non-addresses', () => {
  for (const text of [
    '2001:db8::1::2',
    '2001:db8:0:7:1:2:3:4:5',
    '2001:db8:0:7:1:2:3',
    '2001:db8:0:7::1:2:3:4:5:6:7',
    '12345::1',
    'g::1',
    '::ffff:300.1.2.3',
    '::ffff:1.2.3',
    'Unknown:Client',
  ]) {
    assert.equal(clientAddressKey(text), text, text);
  }
  assert.equal(clientAddressKey('unknown'), 'unknown');
});
