// The rings `tenrec up` makes for itself: made once, never replaced.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureRings } from './all-in-one.ts';
import { RingBuilder } from './builder.ts';
import { builderFile, loadRings, readRingFile, ringFile, RingFileError, writeBuilderFile } from './file.ts';

const root = mkdtempSync(join(tmpdir(), 'tenrec-ring-aio-'));
after(() => rmSync(root, { recursive: true, force: true }));
let dirs = 0;
const newDir = () => join(root, `d${++dirs}`);

const devices = [1, 2, 3].map((n) => ({ ip: '127.0.0.1', port: 6200, device: `dev${n}` }));

describe('ensureRings', () => {
  test('creates the three rings and builders: every device, each in its own zone, replicas spread over them', () => {
    const dir = newDir();
    ensureRings(dir, devices, 3, 6);
    const rings = loadRings(dir, { prefix: '', suffix: 'x' });
    for (const kind of ['account', 'container', 'object'] as const) {
      const ring = rings[kind];
      assert.equal(ring.partPower, 6);
      assert.equal(ring.replicaCount, 3);
      assert.deepEqual(ring.devices.map((d) => [d!.device, d!.zone]), [['dev1', 1], ['dev2', 2], ['dev3', 3]]);
      for (let p = 0; p < 64; p++) assert.equal(ring.getPartNodes(p).length, 3);
      assert.ok(statSync(builderFile(dir, kind)).isFile());
    }
  });

  test('leaves existing rings alone, even for other devices', () => {
    const dir = newDir();
    ensureRings(dir, devices, 3, 6);
    const before = readFileSync(ringFile(dir, 'object'), 'utf8');
    ensureRings(dir, [{ ip: '10.0.0.9', port: 6200, device: 'other' }], 1);
    assert.equal(readFileSync(ringFile(dir, 'object'), 'utf8'), before);
  });

  test('zones given are used; part power defaults to 10', () => {
    const dir = newDir();
    ensureRings(dir, [{ ip: '127.0.0.1', port: 6200, device: 'a', zone: 7 }], 1);
    const ring = readRingFile(ringFile(dir, 'account'));
    assert.equal(ring.partPower, 10);
    assert.equal(ring.devices[0]!.zone, 7);
  });

  test('a rebalanced builder without its ring: the ring is written from it', () => {
    const dir = newDir();
    const b = new RingBuilder(4, 1, 1);
    b.addDevice({ zone: 1, ip: '10.0.0.1', port: 6200, device: 'mine', weight: 1 });
    b.rebalance();
    writeBuilderFile(builderFile(dir, 'container'), b);
    ensureRings(dir, devices, 3, 6);
    assert.deepEqual(readRingFile(ringFile(dir, 'container')), b.toRingData());
  });

  test('a builder never rebalanced, or too few devices: an error saying what to do', () => {
    const dir = newDir();
    writeBuilderFile(builderFile(dir, 'account'), new RingBuilder(4, 1, 1));
    assert.throws(() => ensureRings(dir, devices, 3, 6), (err: Error) => err instanceof RingFileError && /never been rebalanced.*tenrec object-store ring account rebalance/.test(err.message));
    assert.throws(() => ensureRings(newDir(), devices, 4), /4 replicas need at least 4 devices; 3 given/);
  });
});
