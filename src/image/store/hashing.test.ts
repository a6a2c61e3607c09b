import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { StoreError } from './errors.ts';
import { ImageHasher } from './hashing.ts';

async function digestOf(data: Buffer, piece: number, algorithm?: string) {
  const hasher = new ImageHasher(algorithm);
  for (let at = 0; at < data.length; at += piece) {
    const chunk = Buffer.from(data.subarray(at, at + piece));
    await hasher.update(chunk);
    chunk.fill(0); // a source reusing its buffer must not change the digest
  }
  assert.equal(hasher.bytes, data.length);
  return hasher.digest();
}

const expected = (data: Buffer, algorithm = 'sha512') => ({
  size: data.length,
  checksum: createHash('md5').update(data).digest('hex'),
  osHashAlgo: algorithm,
  osHashValue: createHash(algorithm).update(data).digest('hex'),
});

describe('ImageHasher', () => {
  test('md5 and the os hash over the bytes fed in pieces, and their count (a small image, hashed in place)', async () => {
    const data = randomBytes(100_003);
    assert.deepEqual(await digestOf(data, 7_777), expected(data));
  });

  test('a large image is hashed on the worker threads: same digests, whatever the piece size', async () => {
    const data = randomBytes(11 * 1024 * 1024 + 13);
    assert.deepEqual(await digestOf(data, 65_536), expected(data));
    assert.deepEqual(await digestOf(data, 3 * 1024 * 1024 + 1, 'sha256'), expected(data, 'sha256'));
    // exactly one block, and one byte over
    for (const size of [1024 * 1024, 1024 * 1024 + 1]) {
      const exact = randomBytes(size);
      assert.deepEqual(await digestOf(exact, 4096), expected(exact));
    }
  });

  test('uploads hashed at the same time do not mix their digests', async () => {
    const images = [randomBytes(5 * 1024 * 1024), randomBytes(3 * 1024 * 1024 + 7), randomBytes(2 * 1024 * 1024 - 1)];
    const digests = await Promise.all(images.map((data, i) => digestOf(data, 50_000 + i)));
    digests.forEach((digest, i) => assert.deepEqual(digest, expected(images[i]!)));
  });

  test('an abandoned upload leaves the workers able to hash the next one', async () => {
    const hasher = new ImageHasher();
    await hasher.update(randomBytes(4 * 1024 * 1024));
    hasher.abandon();
    const data = randomBytes(3 * 1024 * 1024);
    assert.deepEqual(await digestOf(data, 100_000), expected(data));
  });

  test('the algorithm is checked when the hasher is made', async () => {
    assert.equal((await new ImageHasher('sha3-256').digest()).osHashValue, createHash('sha3-256').digest('hex'));
    assert.throws(() => new ImageHasher('crc-nope'), StoreError);
  });
});
