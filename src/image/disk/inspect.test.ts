import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { INSPECT_BYTES, inspectHeader } from './inspect.ts';
import { makeQcow2 } from './qcow2.ts';
import { qemuImg } from './testing.ts';

const GiB = 1024 ** 3;

function vmdkSparseHeader(sectors: bigint): Buffer {
  const buf = Buffer.alloc(512);
  buf.write('KDMV', 0, 'latin1');
  buf.writeUInt32LE(1, 4); // version
  buf.writeBigUInt64LE(sectors, 12); // capacity
  buf.writeBigUInt64LE(128n, 20); // grain size
  return buf;
}

function vhdFooter(currentSize: bigint): Buffer {
  const buf = Buffer.alloc(512);
  buf.write('conectix', 0, 'latin1');
  buf.writeBigUInt64BE(currentSize, 40); // original size
  buf.writeBigUInt64BE(currentSize, 48); // current size
  buf.writeUInt32BE(3, 60); // dynamic
  return buf;
}

function isoImage(blocks: number): Buffer {
  const buf = Buffer.alloc(0x8000 + 2 * 2048);
  const pvd = 0x8000;
  buf[pvd] = 1;
  buf.write('CD001', pvd + 1, 'latin1');
  buf.writeUInt32LE(blocks, pvd + 80);
  buf.writeUInt32BE(blocks, pvd + 84);
  buf.writeUInt16LE(2048, pvd + 128);
  buf.writeUInt16BE(2048, pvd + 130);
  buf[pvd + 2048] = 255; // terminator
  buf.write('CD001', pvd + 2048 + 1, 'latin1');
  return buf;
}

describe('inspectHeader', () => {
  test('qcow2: our generated image, size from the header', () => {
    assert.deepEqual(inspectHeader(makeQcow2(GiB).subarray(0, INSPECT_BYTES)), { format: 'qcow2', virtualSize: GiB });
    assert.deepEqual(inspectHeader(makeQcow2(10 * GiB).subarray(0, 512)), { format: 'qcow2', virtualSize: 10 * GiB });
  });

  test('qcow2 version 1 (old qcow) is not qcow2', () => {
    const buf = makeQcow2(GiB).subarray(0, 512);
    buf.writeUInt32BE(1, 4);
    assert.equal(inspectHeader(buf).format, null);
  });

  test('VMDK sparse: capacity in sectors, little-endian', () => {
    assert.deepEqual(inspectHeader(vmdkSparseHeader(2_097_152n)), { format: 'vmdk', virtualSize: GiB });
  });

  test('VMDK text descriptor: the sum of its extents', () => {
    const text = '# Disk DescriptorFile\nversion=1\ncreateType="twoGbMaxExtentFlat"\n\n' +
      'RW 4192256 FLAT "a-f001.vmdk" 0\nRW 2048 FLAT "a-f002.vmdk" 0\n';
    assert.deepEqual(inspectHeader(Buffer.from(text)), { format: 'vmdk', virtualSize: (4192256 + 2048) * 512 });
  });

  test('VHD (dynamic): the footer copy at offset 0, current size at 48', () => {
    assert.deepEqual(inspectHeader(vhdFooter(1_073_995_776n)), { format: 'vhd', virtualSize: 1_073_995_776 });
  });

  test('VHDX: recognised, size unknown from the header', () => {
    const buf = Buffer.alloc(4096);
    buf.write('vhdxfile', 0, 'latin1');
    assert.deepEqual(inspectHeader(buf), { format: 'vhdx', virtualSize: null });
  });

  test('ISO 9660: "CD001" at 0x8001, volume space size x logical block size', () => {
    assert.deepEqual(inspectHeader(isoImage(1000)), { format: 'iso', virtualSize: 1000 * 2048 });
  });

  test('random bytes, an empty buffer and a truncated magic are not recognised', () => {
    for (let i = 0; i < 20; i++) {
      const buf = randomBytes(INSPECT_BYTES);
      buf.write('\0\0\0\0', 0, 'latin1'); // no accidental magic
      buf.write('\0', 0x8001, 'latin1');
      assert.deepEqual(inspectHeader(buf), { format: null, virtualSize: null });
    }
    assert.deepEqual(inspectHeader(Buffer.alloc(0)), { format: null, virtualSize: null });
    assert.deepEqual(inspectHeader(Buffer.from('QFI\xfb', 'latin1')), { format: null, virtualSize: null });
  });

  test('an absurd size from a hostile header gives virtualSize null, not a wrong number', () => {
    const qcow = makeQcow2(GiB).subarray(0, 512);
    qcow.writeBigUInt64BE(2n ** 63n, 24);
    assert.deepEqual(inspectHeader(qcow), { format: 'qcow2', virtualSize: null });
    assert.deepEqual(inspectHeader(vmdkSparseHeader(2n ** 60n)), { format: 'vmdk', virtualSize: null });
  });

  describe('images made by qemu-img', { skip: qemuImg ? false : 'qemu-img not on PATH' }, () => {
    const dir = mkdtempSync(join(tmpdir(), 'tenrec-inspect-'));
    after(() => rmSync(dir, { recursive: true, force: true }));
    const make = (format: string, options: string[] = []) => {
      const file = join(dir, `disk.${format}.${options.join('_')}`);
      execFileSync(qemuImg!, ['create', '-q', '-f', format, ...options, file, '1G']);
      const info = JSON.parse(execFileSync(qemuImg!, ['info', '--output=json', file], { encoding: 'utf8' }));
      return { head: readFileSync(file).subarray(0, INSPECT_BYTES), virtualSize: info['virtual-size'] as number };
    };

    for (const [format, expected, options] of [
      ['qcow2', 'qcow2', []],
      ['vmdk', 'vmdk', []],
      ['vmdk', 'vmdk', ['-o', 'subformat=streamOptimized']],
      ['vpc', 'vhd', []],
    ] as const) {
      test(`${format} ${options.join(' ')}`, () => {
        const { head, virtualSize } = make(format, [...options]);
        assert.deepEqual(inspectHeader(head), { format: expected, virtualSize });
      });
    }

    test('vhdx', () => {
      assert.deepEqual(inspectHeader(make('vhdx').head), { format: 'vhdx', virtualSize: null });
    });
  });
});
