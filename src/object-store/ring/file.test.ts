// Ring and builder files: whole or absent, clear errors naming the file, and running
// processes that pick up a new ring without a restart.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RingBuilder } from './builder.ts';
import {
  builderFile,
  loadRings,
  readBuilderFile,
  readRingFile,
  RingFileError,
  ringFile,
  RingHolder,
  writeBuilderFile,
  writeRingFile,
} from './file.ts';

const root = mkdtempSync(join(tmpdir(), 'tenrec-ring-file-'));
after(() => rmSync(root, { recursive: true, force: true }));
let dirs = 0;
const newDir = () => join(root, `d${++dirs}`);

const secrets = { prefix: '', suffix: 'tenrec' };

function builder(devices: number): RingBuilder {
  const b = new RingBuilder(6, 3, 0);
  for (let z = 1; z <= devices; z++) b.addDevice({ zone: z, ip: '127.0.0.1', port: 6200 + z, device: `d${z}`, weight: 1 });
  b.rebalance({ seed: 1 });
  return b;
}

const threeDevices = builder(3).toRingData();
const fourDevices = builder(4).toRingData();

function errorNaming(path: string, pattern: RegExp) {
  return (err: Error) => err instanceof RingFileError && err.message.includes(path) && pattern.test(err.message);
}

describe('ring files', () => {
  test('written whole (no temp file left), read back the same', () => {
    const dir = newDir();
    const path = ringFile(dir, 'object');
    writeRingFile(path, threeDevices);
    writeRingFile(path, fourDevices);
    assert.deepEqual(readdirSync(dir), ['object.ring.json']);
    assert.deepEqual(readRingFile(path), fourDevices);
    assert.equal(JSON.parse(readFileSync(path, 'utf8')).format, 'tenrec-ring/1');
  });

  test('missing, not JSON, or not a ring: an error naming the file and the problem', () => {
    const dir = newDir();
    const path = ringFile(dir, 'container');
    assert.throws(() => readRingFile(path), errorNaming(path, /does not exist/));
    writeRingFile(path, threeDevices);
    writeFileSync(path, '{"format": "tenrec-ring/1", "partPo');
    assert.throws(() => readRingFile(path), errorNaming(path, /invalid: not JSON/));
    writeFileSync(path, JSON.stringify({ format: 'tenrec-ring/1', ...threeDevices, replica2part2dev: [[0]] }));
    assert.throws(() => readRingFile(path), errorNaming(path, /replicaCount \(3\) rows/));
    writeFileSync(path, JSON.stringify(threeDevices));
    assert.throws(() => readRingFile(path), errorNaming(path, /not a ring file/));
  });

  test('builder files: round trip; a damaged one names the file', () => {
    const dir = newDir();
    const path = builderFile(dir, 'account');
    const b = builder(3);
    b.removeDevice(2);
    writeBuilderFile(path, b);
    const copy = readBuilderFile(path);
    assert.deepEqual(copy.toRingData(), b.toRingData());
    assert.ok(copy.isRemoving(2));
    writeFileSync(path, JSON.stringify({ ...JSON.parse(readFileSync(path, 'utf8')), partMovedAt: [] }));
    assert.throws(() => readBuilderFile(path), errorNaming(path, /ring builder file .* is invalid: partMovedAt/));
  });
});

describe('RingHolder', () => {
  test('notices a new ring file once reloadSeconds have passed, or at once on reload()', () => {
    const dir = newDir();
    const path = ringFile(dir, 'object');
    writeRingFile(path, threeDevices);
    let now = 1_000_000;
    const holder = new RingHolder(path, secrets, { reloadSeconds: 15, now: () => now });
    assert.equal(holder.devices.length, 3);
    assert.equal(holder.partPower, 6);

    writeRingFile(path, fourDevices);
    now += 14_000;
    assert.equal(holder.devices.length, 3, 'not looked at yet');
    now += 1_000;
    assert.equal(holder.devices.length, 4, 'picked up after 15 s');
    assert.deepEqual(holder.getPartNodes(5), fourDevices.replica2part2dev.map((row) => fourDevices.devices[row[5]!]));

    writeRingFile(path, threeDevices);
    assert.equal(holder.reload(), true);
    assert.equal(holder.devices.length, 3);
    assert.equal(holder.reload(), false, 'unchanged');
  });

  test('a broken new file: the holder keeps its ring, reports the problem, and reload() throws it', () => {
    const dir = newDir();
    const path = ringFile(dir, 'object');
    writeRingFile(path, threeDevices);
    let now = 0;
    const problems: string[] = [];
    const holder = new RingHolder(path, secrets, { now: () => now, onReloadError: (err) => problems.push(err.message) });
    const before = holder.getNodes('AUTH_test', 'c', 'o');
    writeFileSync(path, 'garbage');
    now += 15_000;
    assert.deepEqual(holder.getNodes('AUTH_test', 'c', 'o'), before);
    assert.equal(problems.length, 1);
    assert.match(problems[0]!, /object\.ring\.json is invalid: not JSON/);
    assert.throws(() => holder.reload(), errorNaming(path, /not JSON/));
    rmSync(path);
    assert.throws(() => holder.reload(), errorNaming(path, /does not exist/));
    assert.deepEqual(holder.getNodes('AUTH_test', 'c', 'o'), before);
  });

  test('loadRings: the account, container and object rings of a directory; a missing one is named', () => {
    const dir = newDir();
    for (const kind of ['account', 'container', 'object'] as const) writeRingFile(ringFile(dir, kind), threeDevices);
    const rings = loadRings(dir, secrets);
    assert.deepEqual(Object.keys(rings).sort(), ['account', 'container', 'object']);
    const { partition, nodes } = rings.container.getNodes('AUTH_test', 'photos');
    assert.equal(partition, 0b001110, 'md5 39d91b9d...: the top 6 bits');
    assert.equal(nodes.length, 3);

    rmSync(ringFile(dir, 'container'));
    assert.throws(() => loadRings(dir, secrets), errorNaming(ringFile(dir, 'container'), /does not exist/));
  });
});
