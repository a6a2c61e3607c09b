// The ring as the proxy uses it: where a path's replicas are, and which devices to try next.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { RingBuilder } from './builder.ts';
import { regionOf, RingDataError, serverOf, StaticRing, zoneOf, type RingData } from './ring-data.ts';
import type { RingDevice } from './types.ts';

const secrets = { prefix: '', suffix: 'tenrec' };

function device(id: number, region: number, zone: number, ip: string, name = `sd${id}`): RingDevice {
  return { id, region, zone, ip, port: 6200, device: name, weight: 100, meta: '' };
}

/** 2 regions x 3 zones x 2 servers x 2 devices, 3 replicas. */
function bigRingData(): RingData {
  const builder = new RingBuilder(8, 3, 0);
  for (let r = 1; r <= 2; r++) {
    for (let z = 1; z <= 3; z++) {
      for (let s = 1; s <= 2; s++) {
        for (const d of ['sda', 'sdb']) builder.addDevice({ region: r, zone: z, ip: `10.${r}.${z}.${s}`, port: 6200, device: d, weight: 100 });
      }
    }
  }
  builder.rebalance({ seed: 7 });
  return builder.toRingData();
}

const bigRing = () => new StaticRing(bigRingData(), secrets);

describe('StaticRing', () => {
  test('getNodes: the partition of the path hash and one device per replica', () => {
    const devices = [device(0, 1, 1, '10.0.0.1'), device(1, 1, 2, '10.0.0.2'), device(2, 1, 3, '10.0.0.3')];
    const parts = 1024;
    const data: RingData = {
      partPower: 10,
      replicaCount: 3,
      devices,
      replica2part2dev: [0, 1, 2].map((r) => Array.from({ length: parts }, (_, p) => (p + r) % 3)),
    };
    const ring = new StaticRing(data, secrets);
    // md5('/AUTH_test' + 'tenrec') starts c78468c8: its top 10 bits are 798
    const { partition, nodes } = ring.getNodes('AUTH_test');
    assert.equal(partition, 798);
    assert.deepEqual(nodes.map((n) => n.id), [0, 1, 2]);
    assert.deepEqual(ring.getPartNodes(799).map((n) => n.id), [1, 2, 0]);
    assert.equal(ring.getNodes('AUTH_test', 'photos').partition, 231);
  });

  test('a device holding two replicas of a partition is listed once', () => {
    const devices = [device(0, 1, 1, '10.0.0.1'), device(1, 1, 2, '10.0.0.2')];
    const ring = new StaticRing({ partPower: 1, replicaCount: 3, devices, replica2part2dev: [[0, 0], [1, 0], [0, 1]] }, secrets);
    assert.deepEqual(ring.getPartNodes(0).map((n) => n.id), [0, 1]);
    assert.deepEqual(ring.getPartNodes(1).map((n) => n.id), [0, 1]);
  });

  test('handoffs: never a primary, never twice, every other device in the end', () => {
    const ring = bigRing();
    for (let p = 0; p < 256; p++) {
      const primaries = ring.getPartNodes(p).map((d) => d.id);
      const handoffs = [...ring.getMoreNodes(p)].map((d) => d.id);
      assert.equal(new Set(handoffs).size, handoffs.length, `partition ${p}: a handoff repeats`);
      assert.ok(!handoffs.some((id) => primaries.includes(id)), `partition ${p}: a primary among the handoffs`);
      assert.equal(handoffs.length, 24 - 3, `partition ${p}: every other device`);
    }
  });

  test('handoffs: other regions first, then other zones, then other servers, then the rest', () => {
    const ring = bigRing();
    for (let p = 0; p < 256; p++) {
      const seen = { regions: new Set<string>(), zones: new Set<string>(), servers: new Set<string>() };
      const note = (d: RingDevice) => {
        seen.regions.add(regionOf(d));
        seen.zones.add(zoneOf(d));
        seen.servers.add(serverOf(d));
      };
      ring.getPartNodes(p).forEach(note);
      // 0: a new region, 1: a new zone, 2: a new server, 3: only a new device
      const levels = [...ring.getMoreNodes(p)].map((d) => {
        const level = !seen.regions.has(regionOf(d)) ? 0 : !seen.zones.has(zoneOf(d)) ? 1 : !seen.servers.has(serverOf(d)) ? 2 : 3;
        note(d);
        return level;
      });
      assert.deepEqual(levels, [...levels].sort(), `partition ${p}: ${levels.join(',')}`);
    }
  });

  test('handoffs are the same on every host: they depend only on the ring', () => {
    const data = bigRingData();
    const a = new StaticRing(data, secrets);
    const b = new StaticRing(JSON.parse(JSON.stringify(data)), secrets);
    for (const p of [0, 1, 100, 255]) assert.deepEqual([...a.getMoreNodes(p)].map((d) => d.id), [...b.getMoreNodes(p)].map((d) => d.id));
  });

  test('a partition outside the ring is a RangeError', () => {
    const ring = bigRing();
    assert.throws(() => ring.getPartNodes(256), RangeError);
    assert.throws(() => [...ring.getMoreNodes(-1)], RangeError);
  });

  test('inconsistent data is refused with what is wrong', () => {
    const devices = [device(0, 1, 1, '10.0.0.1')];
    const bad = (data: unknown, pattern: RegExp) => assert.throws(() => new StaticRing(data as RingData, secrets), (err: Error) => err instanceof RingDataError && pattern.test(err.message));
    bad({ partPower: 1, replicaCount: 1, devices, replica2part2dev: [[0, 1]] }, /replica2part2dev\[0\]\[1\] is not a device/);
    bad({ partPower: 1, replicaCount: 1, devices, replica2part2dev: [[0]] }, /must have 2 entries/);
    bad({ partPower: 1, replicaCount: 2, devices, replica2part2dev: [[0, 0]] }, /replicaCount \(2\) rows/);
    bad({ partPower: 1, replicaCount: 1, devices: [{ ...devices[0], id: 5 }], replica2part2dev: [[0, 0]] }, /devices\[0\]\.id must be 0/);
    bad({ partPower: 40, replicaCount: 1, devices, replica2part2dev: [] }, /partPower/);
    bad(null, /not a JSON object/);
  });
});

