// The ring builder: partitions spread by weight and over failure domains, and ring changes
// that move only what they must.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { MAX_BALANCE, RingBuilder, RingBuilderError, type NewDevice } from './builder.ts';

const HOUR = 3600_000;
const T0 = Date.UTC(2030, 0, 1);

function dev(zone: number, n: number, weight = 100, region = 1): NewDevice {
  return { region, zone, ip: `10.${region}.${zone}.${n}`, port: 6200, device: 'sdb', weight };
}

function builderWith(devices: NewDevice[], { partPower = 10, replicas = 3, minPartHours = 0 } = {}): RingBuilder {
  const b = new RingBuilder(partPower, replicas, minPartHours);
  for (const d of devices) b.addDevice(d);
  return b;
}

const tableOf = (b: RingBuilder) => b.toRingData().replica2part2dev;

/** (replica, partition) pairs whose device changed, per partition. */
function changes(before: number[][], after: number[][]): Map<number, { replica: number; from: number; to: number }[]> {
  const out = new Map<number, { replica: number; from: number; to: number }[]>();
  before.forEach((row, r) =>
    row.forEach((from, p) => {
      const to = after[r]![p]!;
      if (from !== to) out.set(p, [...(out.get(p) ?? []), { replica: r, from, to }]);
    }),
  );
  return out;
}

describe('RingBuilder: placement', () => {
  test('3 replicas over 3 zones: every partition has one replica in each zone, devices evenly loaded', () => {
    const b = builderWith([dev(1, 1), dev(1, 2), dev(2, 1), dev(2, 2), dev(3, 1), dev(3, 2)]);
    const result = b.rebalance({ seed: 1 });
    assert.equal(result.moved, 3 * 1024, 'every replica placed');
    const zoneOf = b.devices.map((d) => d!.zone);
    const table = tableOf(b);
    for (let p = 0; p < 1024; p++) {
      const zones = table.map((row) => zoneOf[row[p]!]);
      assert.equal(new Set(zones).size, 3, `partition ${p} in zones ${zones.join(',')}`);
    }
    assert.deepEqual(b.partCounts(), [512, 512, 512, 512, 512, 512]);
    assert.equal(result.balance, 0);
    assert.equal(result.dispersion, 0);
  });

  test('devices hold partitions in proportion to their weights (within 1%)', () => {
    // equal zones, unequal devices inside them
    const weights = [
      [1, 100],
      [1, 200],
      [2, 150],
      [2, 150],
      [3, 300],
    ] as const;
    const b = builderWith(weights.map(([zone, w], i) => dev(zone, i, w)));
    b.rebalance({ seed: 2 });
    const counts = b.partCounts();
    weights.forEach(([, w], id) => {
      const fair = (w / 900) * 3 * 1024;
      assert.ok(Math.abs(counts[id]! - fair) / fair < 0.01, `device ${id}: ${counts[id]} for a fair ${fair}`);
    });
    assert.ok(b.getBalance() < 1, `balance ${b.getBalance()}`);

    const one = builderWith([dev(1, 1, 1), dev(1, 2, 2), dev(1, 3, 3)], { partPower: 12, replicas: 1 });
    one.rebalance({ seed: 3 });
    const [a, c, d] = one.partCounts();
    assert.ok(Math.abs(a! - 4096 / 6) <= 2 && Math.abs(c! - 4096 / 3) <= 2 && Math.abs(d! - 2048) <= 2, `${a} ${c} ${d}`);
  });

  test('when the weights cannot all be honoured with full dispersion, dispersion is reported', () => {
    // three devices in zone 1, one in zone 2: by weight zone 1 holds 2.25 replicas of each partition
    const b = builderWith([dev(1, 1), dev(1, 2), dev(1, 3), dev(2, 1)]);
    const result = b.rebalance({ seed: 4 });
    assert.deepEqual(b.partCounts(), [768, 768, 768, 768]);
    // a quarter of the partitions have all three replicas in zone 1: one replica each at risk
    assert.ok(Math.abs(result.dispersion - 100 / 12) < 0.01, `dispersion ${result.dispersion}`);
  });

  test('no device holds two replicas of a partition, even with few devices per zone', () => {
    const b = builderWith([dev(1, 1), dev(1, 2), dev(1, 3)], { partPower: 8 });
    b.rebalance({ seed: 5 });
    const table = tableOf(b);
    for (let p = 0; p < 256; p++) assert.equal(new Set(table.map((row) => row[p])).size, 3);
  });

  test('the same seed gives the same ring', () => {
    const devices = [dev(1, 1), dev(1, 2), dev(2, 1), dev(2, 2), dev(3, 1)];
    const a = builderWith(devices);
    const b = builderWith(devices);
    a.rebalance({ seed: 42 });
    b.rebalance({ seed: 42 });
    assert.deepEqual(tableOf(a), tableOf(b));
  });
});

describe('RingBuilder: changes move only what they must', () => {
  test('a rebalance with nothing changed moves nothing', () => {
    const b = builderWith([dev(1, 1), dev(2, 1), dev(3, 1), dev(4, 1)]);
    b.rebalance({ seed: 1 });
    const before = tableOf(b);
    assert.equal(b.rebalance({ seed: 2 }).moved, 0);
    assert.deepEqual(tableOf(b), before);
  });

  test('adding a 4th device moves a quarter of the replica-partitions, all onto it, one replica per partition', () => {
    const b = builderWith([dev(1, 1), dev(2, 1), dev(3, 1)]);
    b.rebalance({ seed: 1 });
    const before = tableOf(b);
    const id = b.addDevice(dev(4, 1));
    const result = b.rebalance({ seed: 2 });
    assert.equal(result.moved, 768, 'a quarter of 3 x 1024');
    const moved = changes(before, tableOf(b));
    for (const [p, list] of moved) {
      assert.equal(list.length, 1, `partition ${p} moved ${list.length} replicas`);
      assert.equal(list[0]!.to, id, 'only onto the new device');
    }
    assert.deepEqual(b.partCounts(), [768, 768, 768, 768]);
    assert.equal(result.balance, 0);
  });

  test('removing a device reassigns exactly its partitions, and drops it', () => {
    const b = builderWith([dev(1, 1), dev(2, 1), dev(3, 1), dev(4, 1), dev(5, 1)]);
    b.rebalance({ seed: 1 });
    const before = tableOf(b);
    const held = b.partCounts()[2]!;
    b.removeDevice(2);
    assert.ok(b.isRemoving(2));
    const result = b.rebalance({ seed: 2 });
    assert.equal(result.removedDevices, 1);
    assert.equal(result.moved, held);
    for (const [, list] of changes(before, tableOf(b))) for (const c of list) assert.equal(c.from, 2, 'only the removed device gives up partitions');
    assert.equal(b.devices[2], null);
    assert.equal(b.toRingData().devices[2], null);
    assert.equal(result.dispersion, 0);
  });

  test('a heavier weight moves partitions onto the device and nowhere else', () => {
    const b = builderWith([dev(1, 1), dev(1, 2), dev(2, 1), dev(2, 2), dev(3, 1), dev(3, 2)]);
    b.rebalance({ seed: 1 });
    const before = tableOf(b);
    const had = b.partCounts()[0]!;
    b.setWeight(0, 200);
    const result = b.rebalance({ seed: 2 });
    const moved = changes(before, tableOf(b));
    for (const [, list] of moved) {
      assert.equal(list.length, 1);
      assert.equal(list[0]!.to, 0);
    }
    // 200 of 700 weight: its share is 877.7 partition-replicas
    assert.equal(b.partCounts()[0], b.wantedParts().get(0));
    assert.ok(Math.abs(b.partCounts()[0]! - (3 * 1024 * 200) / 700) < 1);
    assert.equal(result.moved, b.partCounts()[0]! - had);
    assert.ok(result.balance < 1);
  });

  test('weight 0 drains a device over rebalances without removing it', () => {
    const b = builderWith([dev(1, 1), dev(1, 2), dev(2, 1), dev(3, 1)]);
    b.rebalance({ seed: 1 });
    b.setWeight(1, 0);
    b.rebalance({ seed: 2 });
    assert.equal(b.partCounts()[1], 0);
    assert.notEqual(b.devices[1], null);
    assert.equal(b.balancePerDevice().get(1), 0);
  });
});

describe('RingBuilder: min_part_hours', () => {
  test('a partition moved within min_part_hours stays; after them it may move; a removed device moves regardless', () => {
    const b = builderWith([dev(1, 1), dev(2, 1), dev(3, 1)], { minPartHours: 1 });
    b.rebalance({ seed: 1, now: T0 });
    b.addDevice(dev(4, 1));
    assert.equal(b.rebalance({ seed: 2, now: T0 + HOUR / 2 }).moved, 0, 'every partition moved half an hour ago');
    assert.equal(b.minPartSecondsLeft(T0 + HOUR / 2), 1800);

    const before = tableOf(b);
    assert.equal(b.rebalance({ seed: 3, now: T0 + HOUR }).moved, 768);
    const movedNow = new Set(changes(before, tableOf(b)).keys());

    // the new device's partitions have all just moved; removing it moves them at once anyway
    const onIt = tableOf(b).flatMap((row) => row.flatMap((id, p) => (id === 3 ? [p] : [])));
    assert.ok(onIt.every((p) => movedNow.has(p)));
    b.removeDevice(3);
    assert.equal(b.rebalance({ seed: 4, now: T0 + HOUR + 1000 }).moved, onIt.length);
  });

  test('a partition moves at most one replica per rebalance, even with min_part_hours 0', () => {
    // all three replicas in zone 1; then a zone 2 and a zone 3 as heavy as zone 1
    const b = builderWith([dev(1, 1), dev(1, 2), dev(1, 3)]);
    b.rebalance({ seed: 1 });
    b.addDevice(dev(2, 1, 300));
    b.addDevice(dev(3, 1, 300));
    const before = tableOf(b);
    const first = b.rebalance({ seed: 2 });
    assert.equal(first.moved, 1024);
    for (const [p, list] of changes(before, tableOf(b))) assert.equal(list.length, 1, `partition ${p}`);
    assert.ok(first.dispersion > 0, 'not done yet');
    const second = b.rebalance({ seed: 3 });
    assert.equal(second.moved, 1024);
    assert.equal(second.dispersion, 0);
    const [z1a, z1b, z1c, z2, z3] = b.partCounts();
    assert.equal(z2, 1024);
    assert.equal(z3, 1024);
    assert.equal(z1a! + z1b! + z1c!, 1024);
  });

  test('pretendMinPartHoursPassed lets the next rebalance move everything again', () => {
    const b = builderWith([dev(1, 1), dev(2, 1), dev(3, 1)], { minPartHours: 24 });
    b.rebalance({ seed: 1, now: T0 });
    b.addDevice(dev(4, 1));
    assert.equal(b.rebalance({ now: T0 + HOUR }).moved, 0);
    b.pretendMinPartHoursPassed();
    assert.equal(b.minPartSecondsLeft(T0 + HOUR), 0);
    assert.equal(b.rebalance({ now: T0 + HOUR }).moved, 768);
  });
});

describe('RingBuilder: reports, files and mistakes', () => {
  test('balance: a device with partitions and no weight is MAX_BALANCE; an underloaded one is negative', () => {
    const b = builderWith([dev(1, 1), dev(2, 1), dev(3, 1), dev(4, 1)]);
    b.rebalance({ seed: 1 });
    b.removeDevice(3);
    assert.equal(b.balancePerDevice().get(3), MAX_BALANCE);
    assert.equal(b.getBalance(), MAX_BALANCE);
    assert.ok(b.balancePerDevice().get(0)! < 0);
  });

  test('toJSON/fromJSON: the same ring, devices marked for removal and the min_part_hours clock survive', () => {
    const b = builderWith([dev(1, 1), dev(2, 1), dev(3, 1), dev(4, 1)], { minPartHours: 1 });
    b.rebalance({ seed: 1, now: T0 });
    b.removeDevice(1);
    const copy = RingBuilder.fromJSON(JSON.parse(JSON.stringify(b)));
    assert.deepEqual(copy.toRingData(), b.toRingData());
    assert.ok(copy.isRemoving(1));
    assert.ok(copy.devsChanged);
    assert.equal(copy.minPartSecondsLeft(T0), 3600);
    assert.equal(copy.version, b.version);
    copy.addDevice(dev(5, 1));
    assert.equal(copy.rebalance({ now: T0 + 60_000 }).moved, 768, 'only the removed device moves within min_part_hours');
  });

  test('fromJSON names what is wrong', () => {
    const good = JSON.parse(JSON.stringify(builderWith([dev(1, 1)], { replicas: 1, partPower: 2 })));
    const bad = (patch: object, pattern: RegExp) => assert.throws(() => RingBuilder.fromJSON({ ...good, ...patch }), (err: Error) => err instanceof RingBuilderError && pattern.test(err.message));
    bad({ format: 'x' }, /not a ring builder/);
    bad({ partPower: 99 }, /part_power/);
    bad({ replica2part2dev: [[0, 0, 0, 7]] }, /replica2part2dev\[0\]\[3\] is not a device/);
    bad({ partMovedAt: [0] }, /partMovedAt/);
    bad({ removing: [4] }, /removing/);
    assert.throws(() => RingBuilder.fromJSON('nope'), RingBuilderError);
  });

  test('mistakes are RingBuilderErrors that say what is wrong', () => {
    const b = builderWith([dev(1, 1), dev(2, 1)]);
    assert.throws(() => b.rebalance(), /3 replicas need at least 3 devices with weight; the ring has 2/);
    assert.throws(() => b.addDevice(dev(1, 1)), /Device 0 already uses 10\.1\.1\.1:6200\/sdb/);
    assert.throws(() => b.addDevice({ ...dev(1, 9), device: '../x' }), /Invalid device name/);
    assert.throws(() => b.addDevice({ ...dev(1, 9), port: 70000 }), /port/);
    assert.throws(() => b.addDevice({ ...dev(1, 9), weight: -1 }), /weight/);
    assert.throws(() => b.setWeight(7, 1), /no device with id 7/);
    b.removeDevice(1);
    assert.throws(() => b.setWeight(1, 5), /marked for removal/);
    assert.throws(() => new RingBuilder(10, 0, 1), /replicas/);
    assert.throws(() => new RingBuilder(10, 2.5, 1), /replicas/);
    assert.throws(() => new RingBuilder(10, 3, -1), /min_part_hours/);
    assert.throws(() => builderWith([]).toRingData(), /never been rebalanced/);
  });
});
