import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeQcow2, QCOW2_CLUSTER_SIZE } from './qcow2.ts';
import { qemuImg } from './testing.ts';

const GiB = 1024 ** 3;

/**
 * Checks what `qemu-img check` checks on an image without data: the header, that every
 * table lies inside the file on a cluster boundary, and that the stored refcount of every
 * cluster equals the number of references to it (no leak, no corruption).
 */
function verifyStructure(image: Buffer, virtualSize: number): void {
  const C = QCOW2_CLUSTER_SIZE;
  assert.equal(image.toString('latin1', 0, 4), 'QFI\xfb');
  assert.equal(image.readUInt32BE(4), 3, 'version');
  assert.equal(image.readBigUInt64BE(8), 0n, 'no backing file');
  assert.equal(1 << image.readUInt32BE(20), C, 'cluster size');
  assert.equal(Number(image.readBigUInt64BE(24)), virtualSize, 'virtual size');
  assert.equal(image.readUInt32BE(32), 0, 'not encrypted');
  assert.equal(image.readBigUInt64BE(72), 0n, 'no incompatible feature (not dirty)');
  const headerLength = image.readUInt32BE(100);
  assert.ok(headerLength >= 104 && headerLength % 8 === 0, 'header length');
  assert.equal(image.readUInt32BE(headerLength), 0, 'header extensions end at once');
  assert.equal(image.length % C, 0, 'whole clusters');

  const clusters = image.length / C;
  const refs = new Array<number>(clusters).fill(0);
  const reference = (offset: number, length: number, what: string) => {
    assert.equal(offset % C, 0, `${what} cluster-aligned`);
    assert.ok(offset + length <= image.length, `${what} inside the file`);
    for (let c = offset / C; c < (offset + length) / C; c++) refs[c]! += 1;
  };
  reference(0, C, 'header');

  const l1Size = image.readUInt32BE(36);
  const l1Offset = Number(image.readBigUInt64BE(40));
  assert.equal(l1Size, Math.ceil(virtualSize / ((C / 8) * C)), 'L1 entries cover the disk');
  reference(l1Offset, Math.ceil((l1Size * 8) / C) * C, 'L1 table');
  for (let i = 0; i < l1Size; i++) assert.equal(image.readBigUInt64BE(l1Offset + i * 8), 0n, 'no L2 table');

  const refcountOrder = image.readUInt32BE(96);
  assert.equal(refcountOrder, 4, '16-bit refcounts');
  const tableOffset = Number(image.readBigUInt64BE(48));
  const tableClusters = image.readUInt32BE(56);
  reference(tableOffset, tableClusters * C, 'refcount table');
  const stored = new Array<number>(clusters).fill(0);
  for (let i = 0; i < (tableClusters * C) / 8; i++) {
    const block = Number(image.readBigUInt64BE(tableOffset + i * 8));
    if (block === 0) continue;
    reference(block, C, 'refcount block');
    for (let j = 0; j < C / 2; j++) {
      const cluster = i * (C / 2) + j;
      const count = image.readUInt16BE(block + j * 2);
      if (cluster < clusters) stored[cluster] = count;
      else assert.equal(count, 0, 'no refcount beyond the end of the file');
    }
  }
  assert.deepEqual(stored, refs, 'refcounts match references');
}

describe('makeQcow2', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tenrec-qcow2-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  for (const size of [512, GiB, 3 * GiB + 512, 2 ** 50]) {
    test(`a valid empty image of ${size} bytes`, () => {
      const image = makeQcow2(size);
      verifyStructure(image, size);
      if (size <= 16 * GiB) assert.ok(image.length <= 256 * 1024, 'small on disk');

      if (!qemuImg) return; // the structure check above is the judge without QEMU
      const file = join(dir, `${size}.qcow2`);
      writeFileSync(file, image);
      execFileSync(qemuImg, ['check', '-q', file]); // throws on a non-zero exit: errors or leaks
      const info = JSON.parse(execFileSync(qemuImg, ['info', '--output=json', file], { encoding: 'utf8' }));
      assert.equal(info.format, 'qcow2');
      assert.equal(info['virtual-size'], size);
      assert.equal(info['format-specific'].data.compat, '1.1');
    });
  }

  test('the structure check is not vacuous: a wrong refcount or size is caught', () => {
    const leaked = makeQcow2(GiB);
    leaked.writeUInt16BE(2, 2 * QCOW2_CLUSTER_SIZE + 3 * 2); // L1 cluster counted twice
    assert.throws(() => verifyStructure(leaked, GiB), /refcounts match references/);
    assert.throws(() => verifyStructure(makeQcow2(GiB), 2 * GiB), /virtual size/);
  });

  test('a 1 GiB image is 256 KiB', () => {
    assert.equal(makeQcow2(GiB).length, 4 * QCOW2_CLUSTER_SIZE);
  });

  test('rejects sizes that are not positive multiples of 512, or too large', () => {
    for (const bad of [0, -512, 1000, 1.5, NaN, 2 ** 52]) assert.throws(() => makeQcow2(bad), RangeError);
  });
});
