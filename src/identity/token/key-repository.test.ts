import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KeyRepositoryError, keyIndices, load, rotate, setup } from './key-repository.ts';

const root = mkdtempSync(join(tmpdir(), 'tenrec-fernet-keys-'));
after(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const freshDir = () => join(root, `repo-${n++}`);

const mode = (path: string) => statSync(path).mode & 0o777;
const names = (dir: string) => readdirSync(dir).sort();
const read = (dir: string, index: number) => readFileSync(join(dir, String(index)), 'utf8');

describe('setup', () => {
  test('creates the directory 0700 with staged key 0 and primary key 1, each 0600', () => {
    const dir = join(freshDir(), 'nested', 'fernet-keys');
    setup(dir);
    assert.equal(mode(dir), 0o700);
    assert.deepEqual(names(dir), ['0', '1']);
    for (const f of ['0', '1']) {
      assert.equal(mode(join(dir, f)), 0o600);
      assert.match(readFileSync(join(dir, f), 'utf8'), /^[A-Za-z0-9_-]{43}=$/);
    }
    assert.notEqual(read(dir, 0), read(dir, 1));
  });

  test('is idempotent: a second run changes nothing', () => {
    const dir = freshDir();
    setup(dir);
    const before = [read(dir, 0), read(dir, 1)];
    setup(dir);
    assert.deepEqual(names(dir), ['0', '1']);
    assert.deepEqual([read(dir, 0), read(dir, 1)], before);
  });

  test('fills an existing empty directory', () => {
    const dir = freshDir();
    mkdirSync(dir);
    setup(dir);
    assert.deepEqual(names(dir), ['0', '1']);
  });

  test('leaves a repository that already has keys alone', () => {
    const dir = freshDir();
    setup(dir);
    rotate(dir);
    setup(dir);
    assert.deepEqual(names(dir), ['0', '1', '2']);
  });
});

describe('rotate', () => {
  test('promotes the staged key, writes a new staged key, keeps at most maxActiveKeys', () => {
    const dir = freshDir();
    setup(dir);
    const staged0 = read(dir, 0);

    let result = rotate(dir, 3);
    assert.deepEqual(names(dir), ['0', '1', '2']);
    assert.deepEqual(result, { primary: 2, removed: [], indices: [0, 1, 2] });
    assert.equal(read(dir, 2), staged0, 'the old staged key is the new primary');
    assert.notEqual(read(dir, 0), staged0, 'a new staged key');
    const staged1 = read(dir, 0);

    result = rotate(dir, 3);
    assert.deepEqual(names(dir), ['0', '2', '3']);
    assert.deepEqual(result, { primary: 3, removed: [1], indices: [0, 2, 3] });
    assert.equal(read(dir, 3), staged1);

    rotate(dir, 3);
    assert.deepEqual(names(dir), ['0', '3', '4']);
    for (const f of names(dir)) assert.equal(mode(join(dir, f)), 0o600);
  });

  test('with a larger maxActiveKeys the secondaries accumulate, oldest removed first', () => {
    const dir = freshDir();
    setup(dir);
    for (let i = 0; i < 3; i++) rotate(dir, 5);
    assert.deepEqual(keyIndices(dir), [0, 1, 2, 3, 4]);
    assert.deepEqual(rotate(dir, 5).removed, [1]);
    assert.deepEqual(keyIndices(dir), [0, 2, 3, 4, 5]);
  });

  test('maxActiveKeys bounds the count after every rotation', () => {
    for (const max of [2, 3, 4, 6]) {
      const dir = freshDir();
      setup(dir);
      for (let i = 0; i < 8; i++) {
        const { indices } = rotate(dir, max);
        assert.ok(indices.length <= max, `max ${max}: ${indices}`);
        assert.equal(indices[0], 0);
        assert.equal(indices[indices.length - 1], i + 2);
      }
      assert.equal(keyIndices(dir).length, max);
    }
  });

  test('leaves no temporary files behind', () => {
    const dir = freshDir();
    setup(dir);
    rotate(dir);
    rotate(dir);
    assert.ok(names(dir).every((f) => /^\d+$/.test(f)), names(dir).join(','));
  });

  test('refuses maxActiveKeys below 2 and a repository without keys or without a staged key', () => {
    const dir = freshDir();
    setup(dir);
    assert.throws(() => rotate(dir, 1), RangeError);
    assert.throws(() => rotate(dir, 2.5), RangeError);
    const empty = freshDir();
    mkdirSync(empty);
    assert.throws(() => rotate(empty), KeyRepositoryError);
    rmSync(join(dir, '0'));
    assert.throws(() => rotate(dir), /no staged key 0/);
    assert.throws(() => rotate(freshDir()), /does not exist/);
  });
});

describe('load', () => {
  test('returns primary first, then staged, then secondaries newest first', () => {
    const dir = freshDir();
    setup(dir);
    assert.deepEqual(load(dir), [read(dir, 1), read(dir, 0)]);
    rotate(dir, 4);
    rotate(dir, 4);
    assert.deepEqual(keyIndices(dir), [0, 1, 2, 3]);
    assert.deepEqual(load(dir), [read(dir, 3), read(dir, 0), read(dir, 2), read(dir, 1)]);
  });

  test('ignores files that are not key indices', () => {
    const dir = freshDir();
    setup(dir);
    for (const f of ['README', '.tmp-abc', '01', '-1', '1.5', '2~']) writeFileSync(join(dir, f), 'junk');
    mkdirSync(join(dir, '7'));
    assert.deepEqual(keyIndices(dir), [0, 1]);
    assert.equal(load(dir).length, 2);
  });

  test('a lone key 0 is the primary', () => {
    const dir = freshDir();
    setup(dir);
    rmSync(join(dir, '1'));
    assert.deepEqual(load(dir), [read(dir, 0)]);
  });

  test('clear errors for a missing directory, an empty one, a file, and a bad key file', () => {
    const missing = freshDir();
    assert.throws(() => load(missing), (err: unknown) => err instanceof KeyRepositoryError && err.message.includes(missing) && /does not exist/.test(err.message));
    const empty = freshDir();
    mkdirSync(empty);
    assert.throws(() => load(empty), /contains no keys/);
    const file = join(root, 'a-file');
    writeFileSync(file, '');
    assert.throws(() => load(file), /not a directory/);
    const bad = freshDir();
    setup(bad);
    writeFileSync(join(bad, '1'), 'not a key');
    assert.throws(() => load(bad), /1 does not hold a valid key/);
  });
});
