import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileWriter } from './file-writer.ts';

const dir = mkdtempSync(join(tmpdir(), 'tenrec-file-writer-'));
after(() => rmSync(dir, { recursive: true, force: true }));

describe('FileWriter', () => {
  test('odd-sized chunks land byte for byte, with background datasyncs along the way', async () => {
    const path = join(dir, 'a');
    const fh = await open(path, 'w');
    // Counted and answered at once: with a real, slow datasync, fewer start (one at a time).
    let syncs = 0;
    fh.datasync = async () => {
      syncs++;
    };
    const writer = new FileWriter(fh, 1000, 3000);
    const data = randomBytes(20_011);
    for (let at = 0; at < data.length; at += 777) await writer.write(data.subarray(at, at + 777));
    await writer.finish();
    await fh.close();
    assert.ok(readFileSync(path).equals(data));
    assert.ok(syncs >= 5, `a datasync about every 3000 bytes of 20,011: ${syncs}`);
  });

  test('a datasync that fails makes finish() fail: the data is not reported stored', async () => {
    const fh = await open(join(dir, 'b'), 'w');
    fh.datasync = () => Promise.reject(Object.assign(new Error('EIO: i/o error'), { code: 'EIO' }));
    const writer = new FileWriter(fh, 1000, 2000);
    await writer.write(randomBytes(5000));
    await assert.rejects(writer.finish(), /EIO/);
    await fh.close();
  });
});
