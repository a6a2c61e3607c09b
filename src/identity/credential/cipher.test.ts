import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '../../core/log/logger.ts';
import { HttpError } from '../../core/http/index.ts';
import { rotate, setup } from '../token/key-repository.ts';
import { CredentialCipher, keyHashOf } from './cipher.ts';

describe('credential cipher', () => {
  let root: string;
  before(() => { root = mkdtempSync(join(tmpdir(), 'tenrec-credential-keys-')); });
  after(() => rmSync(root, { recursive: true, force: true }));

  test('a blob comes back as it went in; what is stored is not the blob, and names the primary key', () => {
    const dir = join(root, 'keys');
    setup(dir);
    const cipher = new CredentialCipher(dir, silentLogger);
    const blob = '{"access": "a1", "secret": "s3cr3t-value"}';
    const sealed = cipher.encrypt(blob);
    assert.ok(!sealed.encryptedBlob.includes('s3cr3t'));
    assert.notEqual(cipher.encrypt(blob).encryptedBlob, sealed.encryptedBlob); // a fresh IV each time
    assert.equal(cipher.decrypt(sealed.encryptedBlob), blob);
    assert.equal(sealed.keyHash, keyHashOf(readFileSync(join(dir, '1'), 'utf8').trim()));
    assert.match(sealed.keyHash, /^[0-9a-f]{40}$/);
  });

  test('after a rotation new blobs use the new primary and old ones still open', () => {
    const dir = join(root, 'rotated');
    setup(dir);
    const cipher = new CredentialCipher(dir, silentLogger);
    const before = cipher.encrypt('old');
    rotate(dir);
    const after = cipher.encrypt('new');
    assert.notEqual(after.keyHash, before.keyHash);
    assert.equal(after.keyHash, keyHashOf(readFileSync(join(dir, '2'), 'utf8').trim()));
    assert.equal(cipher.decrypt(before.encryptedBlob), 'old');
    assert.equal(cipher.decrypt(after.encryptedBlob), 'new');
  });

  test('without keys it answers 500 and keeps nothing; keys that arrive later are used without a restart', () => {
    const dir = join(root, 'late');
    const cipher = new CredentialCipher(dir, silentLogger);
    assert.throws(() => cipher.encrypt('x'), (err: unknown) => err instanceof HttpError && err.status === 500 && /could not be encrypted/.test(err.message));
    setup(dir);
    assert.equal(cipher.decrypt(cipher.encrypt('x').encryptedBlob), 'x');
  });

  test('a blob sealed under keys this node does not have cannot be read (500, not garbage)', () => {
    const a = join(root, 'a');
    const b = join(root, 'b');
    setup(a);
    setup(b);
    const sealed = new CredentialCipher(a, silentLogger).encrypt('secret');
    assert.throws(() => new CredentialCipher(b, silentLogger).decrypt(sealed.encryptedBlob), (err: unknown) => err instanceof HttpError && err.status === 500);
  });
});
