import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startCluster, type TestCluster } from './testing/cluster.ts';

const empty = { headers: { 'content-length': '0' } };

describe('proxy: one storage server down', () => {
  let cluster: TestCluster;
  before(async () => {
    cluster = await startCluster();
    assert.equal((await cluster.call('PUT', '/v1/AUTH_f/before', empty)).status, 201);
    assert.equal((await cluster.call('PUT', '/v1/AUTH_f/before/old', { body: 'written before' })).status, 201);
    await cluster.stopStorage(0);
  });
  after(() => cluster.close());

  test('writes still succeed, the missing replica going to a handoff on another server', async () => {
    assert.equal((await cluster.call('PUT', '/v1/AUTH_f/during', empty)).status, 201);
    const put = await cluster.call('PUT', '/v1/AUTH_f/during/new', { body: 'written while node 0 is down' });
    assert.equal(put.status, 201);
    const copies = cluster.objectCopies('AUTH_f', 'during', 'new');
    assert.equal(copies.length, 3, 'three copies, as if nothing were down');
    assert.ok(!copies.includes(0), 'none on the stopped server');
    assert.equal((await cluster.call('POST', '/v1/AUTH_f/during/new', { headers: { 'x-object-meta-a': 'b' } })).status, 202);
  });

  test('reads find a replica that answers', async () => {
    for (let i = 0; i < 5; i++) {
      const old = await cluster.call('GET', '/v1/AUTH_f/before/old');
      assert.equal(old.status, 200);
      assert.equal(old.text, 'written before');
    }
    assert.equal((await cluster.call('HEAD', '/v1/AUTH_f/during/new')).headers['x-object-meta-a'], 'b');
    const listing = JSON.parse((await cluster.call('GET', '/v1/AUTH_f/before?format=json')).text);
    assert.deepEqual(listing.map((o: { name: string }) => o.name), ['old']);
    assert.equal((await cluster.call('HEAD', '/v1/AUTH_f')).status, 204);
  });

  test('deletes succeed and the object reads as gone', async () => {
    assert.equal((await cluster.call('DELETE', '/v1/AUTH_f/before/old')).status, 204);
    assert.equal((await cluster.call('GET', '/v1/AUTH_f/before/old')).status, 404);
  });

  test('once the server is back, an object it missed is still found', async () => {
    await cluster.startStorage(0);
    for (let i = 0; i < 5; i++) assert.equal((await cluster.call('GET', '/v1/AUTH_f/during/new')).status, 200);
  });
});

describe('proxy: two of three storage servers down (no handoffs to go to)', () => {
  let cluster: TestCluster;
  before(async () => {
    cluster = await startCluster({ devicesPerNode: 1 });
    assert.equal((await cluster.call('PUT', '/v1/AUTH_g/c', empty)).status, 201);
    assert.equal((await cluster.call('PUT', '/v1/AUTH_g/c/o', { body: 'kept' })).status, 201);
    await cluster.stopStorage(1);
    await cluster.stopStorage(2);
  });
  after(() => cluster.close());

  test('reads still come from the one replica left', async () => {
    const get = await cluster.call('GET', '/v1/AUTH_g/c/o');
    assert.equal(get.status, 200);
    assert.equal(get.text, 'kept');
    assert.equal((await cluster.call('HEAD', '/v1/AUTH_g/c')).status, 204);
  });

  test('writes get 503: no quorum can be had', async () => {
    assert.equal((await cluster.call('PUT', '/v1/AUTH_g/c/o2', { body: 'lost' })).status, 503);
    assert.equal((await cluster.call('POST', '/v1/AUTH_g/c/o', { headers: { 'x-object-meta-a': 'b' } })).status, 503);
    // (a DELETE of o would be applied by the one server up: a partial write, and the read below would see it)
    assert.equal((await cluster.call('DELETE', '/v1/AUTH_g/c/never-there')).status, 503);
    assert.equal((await cluster.call('PUT', '/v1/AUTH_g/c2', empty)).status, 503);
    assert.equal((await cluster.call('POST', '/v1/AUTH_g/c', { headers: { 'x-container-meta-a': 'b' } })).status, 503);
  });

  test('with every server down, reads are 503 too', async () => {
    await cluster.stopStorage(0);
    assert.equal((await cluster.call('GET', '/v1/AUTH_g/c/o')).status, 503);
    assert.equal((await cluster.call('GET', '/v1/AUTH_g/c?format=json')).status, 503);
    assert.equal((await cluster.call('HEAD', '/v1/AUTH_g')).status, 503);
  });
});
