import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StoreError } from './errors.ts';
import { FileStore } from './file-store.ts';
import { ObjectStorageStore, type ObjectStorageClient } from './object-store.ts';
import { StoreRegistry, UnknownStore } from './registry.ts';

const root = mkdtempSync(join(tmpdir(), 'tenrec-store-registry-'));
after(() => rmSync(root, { recursive: true, force: true }));

const unused = () => Promise.reject(new Error('not called'));
const client: ObjectStorageClient = { ensureContainer: unused, putObject: unused, getObject: unused, deleteObject: unused, headObject: unused, listObjects: unused };

describe('StoreRegistry', () => {
  const fast = new FileStore({ id: 'fast', directory: join(root, 'fast') });
  const slow = new FileStore({ id: 'slow', directory: join(root, 'slow') });
  const swift = new ObjectStorageStore({ id: 'swift', client });
  const registry = new StoreRegistry([fast, slow, swift], 'slow');

  test('lookup by id, the default, all in order', () => {
    assert.equal(registry.get('fast'), fast);
    assert.equal(registry.default, slow);
    assert.deepEqual(registry.all(), [fast, slow, swift]);
    assert.equal(registry.has('swift'), true);
    assert.equal(registry.has('ceph'), false);
  });

  test('an unknown id is an UnknownStore (a StoreError), also as the default', () => {
    assert.throws(() => registry.get('ceph'), (err) => err instanceof UnknownStore && err instanceof StoreError && /unknown store/.test(err.message));
    assert.throws(() => new StoreRegistry([fast], 'slow'), UnknownStore);
    assert.throws(() => new StoreRegistry([fast, fast], 'fast'), StoreError);
  });

  test('the store of a location', () => {
    assert.equal(registry.forLocation(`file://${join(root, 'fast')}/abc`), fast);
    assert.equal(registry.forLocation(`file://${join(root, 'slow')}/abc`), slow);
    assert.equal(registry.forLocation('swift+config://swift/glance/abc'), swift);
    assert.throws(() => registry.forLocation(`file://${root}/abc`), StoreError);
    assert.throws(() => registry.forLocation('rbd://fsid/images/abc/snap'), StoreError);
  });
});
