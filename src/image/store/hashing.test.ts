import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { StoreError } from './errors.ts';
import { ImageHasher } from './hashing.ts';

describe('ImageHasher', () => {
  test('md5 and the os hash over the bytes fed in pieces, and their count', () => {
    const data = randomBytes(100_003);
    const hasher = new ImageHasher();
    for (let at = 0; at < data.length; at += 7_777) hasher.update(data.subarray(at, at + 7_777));
    assert.equal(hasher.bytes, data.length);
    assert.deepEqual(hasher.digest(), {
      size: data.length,
      checksum: createHash('md5').update(data).digest('hex'),
      osHashAlgo: 'sha512',
      osHashValue: createHash('sha512').update(data).digest('hex'),
    });
  });

  test('the algorithm is checked when the hasher is made', () => {
    assert.equal(new ImageHasher('sha3-256').digest().osHashValue, createHash('sha3-256').digest('hex'));
    assert.throws(() => new ImageHasher('crc-nope'), StoreError);
  });
});
