import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { ByteReader } from './byte-reader.ts';
import { readTar, TarError } from './tar.ts';
import * as tar from './testing/tar-writer.ts';

interface Read {
  name: string;
  type: string;
  isFile: boolean;
  data?: string;
  pax: Record<string, string>;
}

/** Reads every member (in chunks of `chunk` bytes), taking the data of files. */
async function readAll(archive: Buffer, chunk = 100): Promise<Read[]> {
  const chunks: Buffer[] = [];
  for (let i = 0; i < archive.length; i += chunk) chunks.push(archive.subarray(i, i + chunk));
  const out: Read[] = [];
  for await (const entry of readTar(new ByteReader(Readable.from(chunks)))) {
    const read: Read = { name: entry.name.toString('utf8'), type: entry.type, isFile: entry.isFile, pax: entry.pax };
    if (entry.isFile) {
      const parts: Buffer[] = [];
      for await (const part of entry.body()) parts.push(part as Buffer);
      read.data = Buffer.concat(parts).toString('utf8');
    }
    out.push(read);
  }
  return out;
}

async function tarError(archive: Buffer): Promise<string> {
  try {
    await readAll(archive);
  } catch (err) {
    assert.ok(err instanceof TarError, String(err));
    return err.message;
  }
  assert.fail('no error');
}

describe('tar reader', () => {
  test('ustar files, directories and links, with the name prefix', async () => {
    const members = await readAll(tar.archive(
      tar.directory('photos/'),
      tar.file('photos/a.jpg', 'AAA'),
      tar.file('b.txt', 'x'.repeat(1500), { prefix: 'deep/er' }),
      tar.symlink('photos/link'),
      tar.file('empty', ''),
    ));
    assert.deepEqual(members.map((m) => [m.name, m.type, m.isFile]), [
      ['photos', '5', false],
      ['photos/a.jpg', '0', true],
      ['deep/er/b.txt', '0', true],
      ['photos/link', '2', false],
      ['empty', '0', true],
    ]);
    assert.equal(members[1]!.data, 'AAA');
    assert.equal(members[2]!.data, 'x'.repeat(1500));
    assert.equal(members[4]!.data, '');
  });

  test('GNU long names and pax paths, the outer extension winning', async () => {
    const long = `${'d'.repeat(120)}/${'f'.repeat(150)}`;
    const members = await readAll(tar.archive(
      tar.gnuLongName(long),
      tar.file('truncated-name', 'long'),
      tar.pax({ path: 'pax/ünïcode.txt', 'SCHILY.xattr.user.meta.color': 'blue' }),
      tar.file('ignored', 'pax data'),
      tar.pax({ path: 'outer' }),
      tar.gnuLongName('inner'),
      tar.file('x', 'both'),
      tar.file('plain', 'no pax here'),
    ));
    assert.deepEqual(members.map((m) => m.name), [long, 'pax/ünïcode.txt', 'outer', 'plain']);
    assert.equal(members[0]!.data, 'long');
    assert.equal(members[1]!.data, 'pax data');
    assert.equal(members[1]!.pax['SCHILY.xattr.user.meta.color'], 'blue');
    assert.deepEqual(members[3]!.pax, {});
  });

  test('a pax size overrides the header, and global records apply to every later member', async () => {
    const data = 'sixteen bytes!!!';
    const withPaxSize = Buffer.concat([tar.header('sized', { size: 0 }), Buffer.from(data), Buffer.alloc(512 - data.length)]);
    const members = await readAll(tar.archive(
      tar.pax({ comment: 'for all' }, 'g'),
      tar.pax({ size: String(data.length) }),
      withPaxSize,
      tar.file('next', 'n'),
    ));
    assert.deepEqual(members.map((m) => [m.name, m.data, m.pax.comment]), [['sized', data, 'for all'], ['next', 'n', 'for all']]);
  });

  test('members whose data is left unread are skipped', async () => {
    const chunks: Buffer[] = [tar.archive(tar.file('a', 'A'.repeat(70_000)), tar.file('b', 'B'), tar.file('c', 'C'.repeat(1000)))];
    const names: string[] = [];
    let half = '';
    for await (const entry of readTar(new ByteReader(Readable.from(chunks)))) {
      names.push(entry.name.toString());
      if (names.length === 2) {
        for await (const part of entry.body()) half += (part as Buffer).toString();
      } else if (names.length === 1) {
        // read one chunk and walk away
        const body = entry.body();
        for await (const _ of body) break;
      }
    }
    assert.deepEqual(names, ['a', 'b', 'c']);
    assert.equal(half, 'B');
  });

  test('v7 headers: a trailing slash makes a directory', async () => {
    const members = await readAll(tar.archive(tar.header('old/', { type: '\0', format: 'v7' }), tar.file('old/f', 'v7 data', { type: '\0', format: 'v7' })));
    assert.deepEqual(members.map((m) => [m.name, m.isFile, m.data]), [['old', false, undefined], ['old/f', true, 'v7 data']]);
  });

  test('an empty archive, or one of zeros, has no members', async () => {
    assert.deepEqual(await readAll(Buffer.alloc(1024)), []);
    assert.equal(await tarError(Buffer.alloc(0)), 'empty file');
  });

  test('damage at the start is an error; later it ends the archive', async () => {
    assert.equal(await tarError(Buffer.from('this is not a tar file at all')), 'truncated header');
    assert.equal(await tarError(Buffer.concat([Buffer.from('x'.repeat(512)), Buffer.alloc(1024)])), 'invalid header');
    assert.equal(await tarError(tar.archive(tar.file('a', 'A', { badChecksum: true }))), 'bad checksum');
    const cut = await readAll(Buffer.concat([tar.file('a', 'A'), tar.file('b', 'B', { badChecksum: true }), tar.file('c', 'C')]));
    assert.deepEqual(cut.map((m) => m.name), ['a']);
  });

  test('data cut short is "unexpected end of data"', async () => {
    const whole = tar.archive(tar.file('a', 'A'.repeat(2000)));
    assert.equal(await tarError(whole.subarray(0, 1200)), 'unexpected end of data');
    assert.equal(await tarError(tar.gnuLongName('x'.repeat(200)).subarray(0, 700)), 'unexpected end of data');
  });

  test('an extension header with nothing valid after it is an error even later in the archive', async () => {
    assert.equal(await tarError(Buffer.concat([tar.file('a', 'A'), tar.gnuLongName('long'), tar.file('b', 'B', { badChecksum: true })])), 'bad checksum');
    assert.equal(await tarError(Buffer.concat([tar.pax({ path: 'p' }), Buffer.alloc(1024)])), 'end of file header');
  });

  test('archives made by GNU tar in every format it writes', { skip: spawnSync('tar', ['--version']).status !== 0 && 'no tar here' }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tenrec-tar-'));
    try {
      const src = join(dir, 'src');
      const longDir = 'l'.repeat(110);
      mkdirSync(join(src, 'c', longDir), { recursive: true });
      writeFileSync(join(src, 'c', 'small.txt'), 'small');
      writeFileSync(join(src, 'c', longDir, `${'n'.repeat(90)}.bin`), Buffer.alloc(100_000, 7));
      writeFileSync(join(src, 'c', 'ünï.txt'), 'utf8 name');
      symlinkSync('small.txt', join(src, 'c', 'link'));
      for (const format of ['gnu', 'pax', 'oldgnu', 'ustar']) {
        if (format === 'ustar') rmSync(join(src, 'c', longDir), { recursive: true }); // ustar cannot hold a 110-byte component
        const archive = execFileSync('tar', ['-c', `--format=${format}`, '-C', src, 'c'], { maxBuffer: 1 << 26 });
        const files = (await readAll(archive, 4096)).filter((m) => m.isFile).map((m) => [m.name, m.data!.length]).sort();
        const expected: [string, number][] = [['c/small.txt', 5], ['c/ünï.txt', 9]];
        if (format !== 'ustar') expected.push([`c/${longDir}/${'n'.repeat(90)}.bin`, 100_000]);
        assert.deepEqual(files, expected.sort(), format);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
