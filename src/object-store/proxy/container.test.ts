import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startCluster, type TestCluster } from './testing/cluster.ts';

describe('proxy: containers', () => {
  let cluster: TestCluster;
  const account = '/v1/AUTH_cont';
  const put = (path: string, headers: Record<string, string> = {}) => cluster.call('PUT', path, { headers: { 'content-length': '0', ...headers } });
  const names = async (query: string) => {
    const res = await cluster.call('GET', `${account}/listed?format=json&${query}`);
    assert.equal(res.status, 200, query);
    return (JSON.parse(res.text) as { name?: string; subdir?: string }[]).map((e) => e.name ?? `subdir:${e.subdir}`);
  };

  before(async () => {
    cluster = await startCluster();
    assert.equal((await put(`${account}/listed`)).status, 201);
    for (const name of ['a', 'b/1', 'b/2', 'b/c/3', 'c', 'd']) {
      assert.equal((await cluster.call('PUT', `${account}/listed/${name}`, { body: name })).status, 201);
    }
  });
  after(() => cluster.close());

  test('PUT creates (201), PUT again accepts (202), HEAD shows counts, policy and timestamps', async () => {
    assert.equal((await put(`${account}/fresh`)).status, 201);
    assert.equal((await put(`${account}/fresh`)).status, 202);
    await cluster.call('PUT', `${account}/fresh/o`, { body: 'four' });
    const head = await cluster.call('HEAD', `${account}/fresh`);
    assert.equal(head.status, 204);
    assert.equal(head.headers['x-container-object-count'], '1');
    assert.equal(head.headers['x-container-bytes-used'], '4');
    assert.equal(head.headers['x-storage-policy'], 'Policy-0');
    assert.match(head.headers['x-timestamp']!, /^\d{10}\.\d{5}$/);
    assert.ok(head.headers['last-modified']);
    assert.equal(head.headers['accept-ranges'], 'bytes');
    assert.equal((await cluster.call('HEAD', `${account}/never-made`)).status, 404);
  });

  test('metadata and ACLs are stored; X-Remove-* and empty values take them away', async () => {
    await put(`${account}/meta`, { 'x-container-meta-color': 'blue', 'x-container-read': '.r:*', 'x-container-write': 'AUTH_other:*' });
    let head = await cluster.call('HEAD', `${account}/meta`);
    assert.equal(head.headers['x-container-meta-color'], 'blue');
    assert.equal(head.headers['x-container-read'], '.r:*');
    assert.equal(head.headers['x-container-write'], 'AUTH_other:*');

    assert.equal((await cluster.call('POST', `${account}/meta`, { headers: { 'x-container-meta-size': 'L', 'x-remove-container-meta-color': 'x', 'x-remove-container-read': 'x' } })).status, 204);
    head = await cluster.call('HEAD', `${account}/meta`);
    assert.equal(head.headers['x-container-meta-size'], 'L');
    assert.equal(head.headers['x-container-meta-color'], undefined);
    assert.equal(head.headers['x-container-read'], undefined);
    assert.equal(head.headers['x-container-write'], 'AUTH_other:*');

    await cluster.call('POST', `${account}/meta`, { headers: { 'x-container-meta-size': '' } });
    assert.equal((await cluster.call('HEAD', `${account}/meta`)).headers['x-container-meta-size'], undefined);
    assert.equal((await cluster.call('POST', `${account}/not-there`, { headers: { 'x-container-meta-a': 'b' } })).status, 404);
  });

  test('DELETE: 204 when empty, 409 while it holds objects, 404 when missing', async () => {
    await put(`${account}/doomed`);
    await cluster.call('PUT', `${account}/doomed/o`, { body: 'x' });
    assert.equal((await cluster.call('DELETE', `${account}/doomed`)).status, 409);
    await cluster.call('DELETE', `${account}/doomed/o`);
    assert.equal((await cluster.call('DELETE', `${account}/doomed`)).status, 204);
    assert.equal((await cluster.call('HEAD', `${account}/doomed`)).status, 404);
    assert.equal((await cluster.call('DELETE', `${account}/doomed`)).status, 404);
  });

  test('bad names, metadata and policies are refused', async () => {
    const long = await put(`${account}/${'c'.repeat(257)}`);
    assert.equal(long.status, 400);
    assert.match(long.text, /Container name length of 257 longer than 256/);
    assert.equal((await put(`${account}/${'c'.repeat(256)}`)).status, 201);
    const meta = await put(`${account}/badmeta`, { [`x-container-meta-${'k'.repeat(129)}`]: 'v' });
    assert.equal(meta.status, 400);
    const notUtf8 = await put(`${account}/badmeta`, { 'x-container-meta-bytes': '\xff\xfe' });
    assert.equal(notUtf8.status, 400);
    assert.match(notUtf8.text, /Metadata must be valid UTF-8/);
    // UTF-8 goes over the wire as its bytes and comes back the same
    const utf8 = Buffer.from('grün ✓').toString('latin1');
    assert.equal((await put(`${account}/utf8meta`, { 'x-container-meta-word': utf8 })).status, 201);
    const head = await cluster.call('HEAD', `${account}/utf8meta`);
    assert.equal(Buffer.from(head.headers['x-container-meta-word']!, 'latin1').toString('utf8'), 'grün ✓');
    const policy = await put(`${account}/gold`, { 'x-storage-policy': 'gold' });
    assert.equal(policy.status, 400);
    assert.match(policy.text, /Invalid X-Storage-Policy 'gold'/);
    assert.equal((await put(`${account}/policy0`, { 'x-storage-policy': 'Policy-0' })).status, 201);
  });

  describe('listings', () => {
    test('everything, in order, with name, hash, bytes, content_type, last_modified', async () => {
      const res = await cluster.call('GET', `${account}/listed?format=json`);
      const listing = JSON.parse(res.text);
      assert.deepEqual(listing.map((o: { name: string }) => o.name), ['a', 'b/1', 'b/2', 'b/c/3', 'c', 'd']);
      assert.deepEqual(Object.keys(listing[0]).sort(), ['bytes', 'content_type', 'hash', 'last_modified', 'name']);
      assert.equal(res.headers['x-container-object-count'], '6');
    });

    test('prefix, delimiter, marker, end_marker, limit, reverse, path', async () => {
      assert.deepEqual(await names('prefix=b/'), ['b/1', 'b/2', 'b/c/3']);
      assert.deepEqual(await names('delimiter=/'), ['a', 'subdir:b/', 'c', 'd']);
      assert.deepEqual(await names('prefix=b/&delimiter=/'), ['b/1', 'b/2', 'subdir:b/c/']);
      assert.deepEqual(await names('marker=b/2'), ['b/c/3', 'c', 'd']);
      assert.deepEqual(await names('end_marker=b/2'), ['a', 'b/1']);
      assert.deepEqual(await names('marker=a&end_marker=c'), ['b/1', 'b/2', 'b/c/3']);
      assert.deepEqual(await names('limit=2'), ['a', 'b/1']);
      assert.deepEqual(await names('limit=2&marker=b/1'), ['b/2', 'b/c/3']);
      assert.deepEqual(await names('reverse=true'), ['d', 'c', 'b/c/3', 'b/2', 'b/1', 'a']);
      assert.deepEqual(await names('reverse=true&marker=c&limit=2'), ['b/c/3', 'b/2']);
      assert.deepEqual(await names('path=b'), ['b/1', 'b/2']);
    });

    test('a limit over 10000 is a 412; the listing of a missing container a 404', async () => {
      const res = await cluster.call('GET', `${account}/listed?limit=10001`);
      assert.equal(res.status, 412);
      assert.match(res.text, /Maximum limit is 10000/);
      assert.equal((await cluster.call('GET', `${account}/listed?limit=10000&format=json`)).status, 200);
      assert.equal((await cluster.call('GET', `${account}/missing?format=json`)).status, 404);
      assert.equal((await cluster.call('GET', '/v1/AUTH_nobody/missing?format=json')).status, 404);
    });
  });
});
