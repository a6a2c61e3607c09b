// Path hashes and partitions must equal Swift's for the same secrets, or data written by one
// host would be looked for elsewhere by another. Expected values from Python's hashlib over
// Swift's formula: md5(prefix + '/' + 'a/c/o' + suffix), partition = top bits of the first word.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { hashPath, partitionOf } from './hash.ts';

const tenrec = { prefix: '', suffix: 'tenrec' };

describe('hashPath', () => {
  test('account, container and object paths hash as in Swift', () => {
    assert.equal(hashPath('AUTH_test', undefined, undefined, tenrec).hex, 'c78468c86a649350b3833c9a04c37932');
    assert.equal(hashPath('AUTH_test', 'photos', undefined, tenrec).hex, '39d91b9d291c730833f9df58ace012b6');
    assert.equal(hashPath('AUTH_test', 'photos', 'cat/🐈.jpg', tenrec).hex, '76d9b42268ddaf3be2635453bcde2f99', 'UTF-8, slashes kept');
    assert.equal(hashPath('a', 'c', 'o', { prefix: 'secret', suffix: 'changeme' }).hex, 'a280da2db64aff93c1ed3b0f3ef52a99');
  });

  test('the raw digest is the same hash as bytes; an empty container counts as none', () => {
    const h = hashPath('AUTH_test', 'photos', undefined, tenrec);
    assert.equal(h.digest.length, 16);
    assert.equal(h.digest.toString('hex'), h.hex);
    assert.equal(hashPath('AUTH_test', '', undefined, tenrec).hex, hashPath('AUTH_test', undefined, undefined, tenrec).hex);
  });

  test('an object without a container is refused, as in Swift', () => {
    assert.throws(() => hashPath('AUTH_test', '', 'x', tenrec), /needs a container/);
  });
});

describe('partitionOf', () => {
  test('the top part_power bits of the first four bytes, big-endian', () => {
    const account = hashPath('AUTH_test', undefined, undefined, tenrec).digest;
    assert.deepEqual([1, 10, 18, 32].map((p) => partitionOf(account, p)), [1, 798, 204305, 3347343560]);
    const object = hashPath('AUTH_test', 'photos', 'cat/🐈.jpg', tenrec).digest;
    assert.deepEqual([1, 10, 18, 32].map((p) => partitionOf(object, p)), [0, 475, 121702, 1993978914]);
  });

  test('a ring of one partition (part power 0) puts everything in partition 0', () => {
    assert.equal(partitionOf(Buffer.from('ffffffff', 'hex'), 0), 0);
  });

  test('a part power outside 0..32 is refused', () => {
    assert.throws(() => partitionOf(Buffer.alloc(16), 33), RangeError);
    assert.throws(() => partitionOf(Buffer.alloc(16), -1), RangeError);
  });
});
