// swift-ring-builder's device syntax, for adding devices and picking them.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DeviceSyntaxError, formatDevice, matchesSearch, parseAddValue, parseSearchValue } from './device-syntax.ts';

describe('parseAddValue', () => {
  test('region, zone, address, device and meta; region may be left out', () => {
    assert.deepEqual(parseAddValue('r2z3-10.0.0.1:6200/sdb1_fast disk'), { region: 2, zone: 3, ip: '10.0.0.1', port: 6200, device: 'sdb1', meta: 'fast disk' });
    assert.deepEqual(parseAddValue('z1-127.0.0.1:6201/d1'), { zone: 1, ip: '127.0.0.1', port: 6201, device: 'd1', meta: '' });
  });

  test('IPv6 in brackets, kept in one canonical form', () => {
    assert.equal(parseAddValue('r1z1-[FE80:0:0::1]:6200/sda').ip, 'fe80::1');
  });

  test('malformed values are DeviceSyntaxErrors quoting them', () => {
    for (const bad of ['z1-10.0.0.1/sdb', 'r1-10.0.0.1:6200/sdb', 'z1-10.0.0.1:6200', 'z1-host.example:6200/sdb', 'z1-10.0.0.1:99999/sdb', 'z1-10.0.0.1:6200/..', 'z1-10.0.0.1:6200/']) {
      assert.throws(() => parseAddValue(bad), (err: Error) => err instanceof DeviceSyntaxError && err.message.includes(bad), bad);
    }
  });
});

describe('parseSearchValue', () => {
  const devices = [
    { id: 0, region: 1, zone: 1, ip: '10.0.0.1', port: 6200, device: 'sda', weight: 1, meta: 'ssd' },
    { id: 1, region: 1, zone: 2, ip: '10.0.0.2', port: 6200, device: 'sda', weight: 1, meta: '' },
    { id: 2, region: 2, zone: 1, ip: '10.0.0.2', port: 6201, device: 'sdb', weight: 1, meta: '' },
  ];
  const ids = (text: string) => devices.filter((d) => matchesSearch(d, parseSearchValue(text))).map((d) => d.id);

  test('each part alone and combined', () => {
    assert.deepEqual(ids('d2'), [2]);
    assert.deepEqual(ids('r1'), [0, 1]);
    assert.deepEqual(ids('z1'), [0, 2]);
    assert.deepEqual(ids('10.0.0.2'), [1, 2]);
    assert.deepEqual(ids(':6201'), [2]);
    assert.deepEqual(ids('/sda'), [0, 1]);
    assert.deepEqual(ids('_ss'), [0]);
    assert.deepEqual(ids('r1z2-10.0.0.2:6200/sda'), [1]);
    assert.deepEqual(ids('z1-10.0.0.2'), [2]);
  });

  test('nonsense is refused', () => {
    for (const bad of ['', 'x1', 'z1z2', 'd']) assert.throws(() => parseSearchValue(bad), DeviceSyntaxError, bad);
  });
});

test('formatDevice: as swift-ring-builder prints a device', () => {
  assert.equal(formatDevice({ id: 3, region: 1, zone: 2, ip: '::1', port: 6200, device: 'sdb', weight: 1, meta: 'm' }), 'd3r1z2-[::1]:6200/sdb_"m"');
});
