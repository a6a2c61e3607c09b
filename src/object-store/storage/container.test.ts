import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { hashPath } from '../ring/hash.ts';
import { dbServerSuite, HASH_PREFIX, HASH_SUFFIX } from './test-support.ts';

const ROW = { 'x-backend-server-type': 'container' };

describe('container server', () => {
  const { node, t, create, list, names } = dbServerSuite();
  let n = 0;
  const fresh = () => `/sda/5/AUTH_test/box-${++n}`;
  const putRow = (path: string, name: string, extra: Record<string, string> = {}) =>
    node.request('PUT', `${path}/${name}`, { headers: { ...ROW, 'x-timestamp': t.next(), 'x-size': '10', 'x-content-type': 'text/plain', 'x-etag': 'e1', ...extra } });
  const deleteRow = (path: string, name: string, timestamp = t.next()) => node.request('DELETE', `${path}/${name}`, { headers: { ...ROW, 'x-timestamp': timestamp } });

  test('PUT creates a container (201) in containers/<part>/<suffix>/<hash>/<hash>.db; a second PUT answers 202', async () => {
    const path = fresh();
    const timestamp = t.next();
    assert.equal((await node.request('PUT', path, { headers: { 'x-timestamp': timestamp } })).status, 201);
    const hash = hashPath('AUTH_test', path.split('/')[4]!, undefined, { prefix: HASH_PREFIX, suffix: HASH_SUFFIX }).hex;
    assert.ok(existsSync(join(node.devicePath('sda'), 'containers', '5', hash.slice(-3), hash, `${hash}.db`)));
    const head = await node.request('HEAD', path);
    assert.equal(head.status, 204);
    assert.equal(head.headers['x-container-object-count'], '0');
    assert.equal(head.headers['x-container-bytes-used'], '0');
    assert.equal(head.headers['x-put-timestamp'], timestamp);
    assert.ok(head.headers['x-timestamp']);
    assert.equal((await create(path)).status, 202);

    const older = await node.request('PUT', path, { headers: { 'x-timestamp': t.at(-5000) } });
    assert.equal(older.status, 202);
    assert.notEqual((await node.request('HEAD', path)).headers['x-put-timestamp'], t.at(-5000), 'an older PUT does not move the put time back');
    assert.equal((await node.request('PUT', fresh())).status, 400, 'X-Timestamp is required');
  });

  test('metadata: stored from PUT and POST, an empty value removes a key, newest write per key wins', async () => {
    const path = fresh();
    const kept = {
      'x-container-meta-color': 'red',
      'x-container-read': '.r:*',
      'x-container-write': 'AUTH_other',
      'x-container-sysmeta-owner': 'mw',
      'x-versions-location': 'versions',
      'x-history-location': 'history',
      'x-container-meta-quota-bytes': '1000',
    };
    await create(path, { ...kept, 'x-other': 'not kept' });
    const head = await node.request('HEAD', path);
    for (const [key, value] of Object.entries(kept)) assert.equal(head.headers[key], value, key);
    assert.equal(head.headers['x-other'], undefined);

    assert.equal((await node.request('POST', path, { headers: { 'x-timestamp': t.next(), 'x-container-meta-color': '', 'x-container-meta-size': 'xl' } })).status, 204);
    await node.request('POST', path, { headers: { 'x-timestamp': t.at(-5000), 'x-container-meta-size': 'stale' } });
    const after = await node.request('HEAD', path);
    assert.equal(after.headers['x-container-meta-color'], undefined);
    assert.equal(after.headers['x-container-meta-size'], 'xl');
    assert.equal((await node.request('POST', fresh(), { headers: { 'x-timestamp': t.next() } })).status, 404);
  });

  test('metadata limits: per request, and in total across requests', async () => {
    const path = fresh();
    await create(path);
    const longValue = await node.request('POST', path, { headers: { 'x-timestamp': t.next(), 'x-container-meta-a': 'v'.repeat(257) } });
    assert.equal(longValue.status, 400);
    assert.match(longValue.text, /Metadata value longer than 256/);
    const half = (from: number) => Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`x-container-meta-k${from + i}`, 'v']));
    assert.equal((await node.request('POST', path, { headers: { 'x-timestamp': t.next(), ...half(0) } })).status, 204);
    const tooMany = await node.request('POST', path, { headers: { 'x-timestamp': t.next(), ...half(50) } });
    assert.equal(tooMany.status, 400);
    assert.match(tooMany.text, /Too many metadata items; max 90/);
    assert.equal((await node.request('HEAD', path)).headers['x-container-meta-k60'], undefined, 'nothing of a refused update is kept');
    const longName = await node.request('PUT', `/sda/5/AUTH_test/${'c'.repeat(257)}`, { headers: { 'x-timestamp': t.next() } });
    assert.equal(longName.status, 400);
  });

  test('object rows: PUT and DELETE from object servers move the counts; the newest row wins', async () => {
    const path = fresh();
    await create(path);
    assert.equal((await putRow(path, 'a', { 'x-size': '5' })).status, 201);
    assert.equal((await putRow(path, 'b/c', { 'x-size': '7' })).status, 201);
    let head = await node.request('HEAD', path);
    assert.equal(head.headers['x-container-object-count'], '2');
    assert.equal(head.headers['x-container-bytes-used'], '12');

    const stale = t.at(-5000);
    await node.request('PUT', `${path}/a`, { headers: { ...ROW, 'x-timestamp': stale, 'x-size': '999', 'x-content-type': 'x/y', 'x-etag': 'old' } });
    assert.equal((await node.request('HEAD', path)).headers['x-container-bytes-used'], '12', 'an older row changes nothing');

    assert.equal((await deleteRow(path, 'a')).status, 204);
    head = await node.request('HEAD', path);
    assert.equal(head.headers['x-container-object-count'], '1');
    assert.equal(head.headers['x-container-bytes-used'], '7');
    assert.deepEqual(await names(path), ['b/c']);
    assert.equal((await putRow(fresh(), 'x')).status, 404, 'no container, no row');
    assert.equal((await node.request('PUT', `${path}/no-size`, { headers: { ...ROW, 'x-timestamp': t.next() } })).status, 400);
  });

  test('a row update without X-Backend-Server-Type is still recognised by its X-Size and X-Etag', async () => {
    const path = fresh();
    await create(path);
    const res = await node.request('PUT', `${path}/plain`, { headers: { 'x-timestamp': t.next(), 'x-size': '3', 'x-content-type': 'text/plain', 'x-etag': 'e' } });
    assert.equal(res.status, 201);
    assert.deepEqual(await names(path), ['plain']);
  });

  test('JSON listing rows carry name, hash, bytes, content_type and last_modified; SLO sizes come from swift_bytes', async () => {
    const path = fresh();
    await create(path);
    const timestamp = t.next();
    await node.request('PUT', `${path}/doc.txt`, { headers: { ...ROW, 'x-timestamp': timestamp, 'x-size': '42', 'x-content-type': 'text/plain', 'x-etag': 'abc' } });
    await putRow(path, 'manifest', { 'x-size': '300', 'x-content-type': 'application/octet-stream;swift_bytes=1048576' });
    const rows = await list(path);
    assert.deepEqual(rows[0], {
      bytes: 42,
      hash: 'abc',
      name: 'doc.txt',
      content_type: 'text/plain',
      last_modified: new Date(Math.floor(Number(timestamp)) * 1000).toISOString().slice(0, 19) + `.${timestamp.split('.')[1]}0`,
    });
    assert.equal(rows[1]!.bytes, 1048576);
    assert.equal(rows[1]!.content_type, 'application/octet-stream');
  });

  test('a POSTed Content-Type reaches the listing, and last_modified follows the metadata time', async () => {
    const path = fresh();
    await create(path);
    const data = t.next();
    await node.request('PUT', `${path}/o`, { headers: { ...ROW, 'x-timestamp': data, 'x-size': '1', 'x-content-type': 'text/plain', 'x-etag': 'e' } });
    const meta = t.next();
    await node.request('PUT', `${path}/o`, {
      headers: { ...ROW, 'x-timestamp': data, 'x-size': '1', 'x-content-type': 'text/html', 'x-etag': 'e', 'x-content-type-timestamp': meta, 'x-meta-timestamp': meta },
    });
    const [row] = await list(path);
    assert.equal(row!.content_type, 'text/html');
    assert.equal(row!.last_modified, new Date(Math.floor(Number(meta)) * 1000).toISOString().slice(0, 19) + `.${meta.split('.')[1]}0`);
  });

  describe('listing options', () => {
    let path: string;
    before(async () => {
      path = fresh();
      await create(path);
      for (const name of ['a', 'b/1', 'b/2', 'b/c/3', 'c', 'd/', 'd/4', 'e']) await putRow(path, name);
    });

    test('prefix, marker, end_marker, limit and reverse', async () => {
      assert.deepEqual(await names(path), ['a', 'b/1', 'b/2', 'b/c/3', 'c', 'd/', 'd/4', 'e']);
      assert.deepEqual(await names(path, '&prefix=b/'), ['b/1', 'b/2', 'b/c/3']);
      assert.deepEqual(await names(path, '&marker=b/2'), ['b/c/3', 'c', 'd/', 'd/4', 'e']);
      assert.deepEqual(await names(path, '&end_marker=b/2'), ['a', 'b/1']);
      assert.deepEqual(await names(path, '&limit=3'), ['a', 'b/1', 'b/2']);
      assert.deepEqual(await names(path, '&reverse=true&limit=3'), ['e', 'd/4', 'd/']);
      assert.deepEqual(await names(path, '&reverse=on&marker=c&end_marker=a'), ['b/c/3', 'b/2', 'b/1']);
    });

    test('delimiter folds deeper names into subdirs', async () => {
      assert.deepEqual(await list(path, '&delimiter=/'), [
        { bytes: 10, hash: 'e1', name: 'a', content_type: 'text/plain', last_modified: (await list(path))[0]!.last_modified },
        { subdir: 'b/' },
        (await list(path, '&prefix=c'))[0]!,
        { subdir: 'd/' },
        (await list(path, '&prefix=e'))[0]!,
      ]);
      assert.deepEqual(await names(path, '&delimiter=/&prefix=b/'), ['b/1', 'b/2', 'b/c/']);
      assert.deepEqual(await names(path, '&delimiter=/&marker=b/'), ['c', 'd/', 'e']);
      assert.deepEqual(await names(path, '&delimiter=/&limit=2'), ['a', 'b/']);
      assert.deepEqual(await names(path, '&delimiter=/&reverse=true'), ['e', 'd/', 'c', 'b/', 'a']);
    });

    test('path lists the direct children of a pseudo-directory', async () => {
      assert.deepEqual(await names(path, '&path=b'), ['b/1', 'b/2']);
      assert.deepEqual(await names(path, '&path=d/'), ['d/4']);
    });

    test('a limit over 10000 is a 412; plain text lists names, and an empty plain listing is a 204', async () => {
      const big = await node.request('GET', `${path}?limit=10001`);
      assert.equal(big.status, 412);
      assert.match(big.text, /Maximum limit is 10000/);
      const plain = await node.request('GET', `${path}?prefix=b/`);
      assert.equal(plain.status, 200);
      assert.equal(plain.text, 'b/1\nb/2\nb/c/3\n');
      assert.match(String(plain.headers['content-type']), /^text\/plain/);
      assert.equal((await node.request('GET', `${path}?prefix=zzz`)).status, 204);
      const emptyJson = await node.request('GET', `${path}?prefix=zzz&format=json`);
      assert.equal(emptyJson.status, 200);
      assert.equal(emptyJson.text, '[]');
      const viaAccept = await node.request('GET', `${path}?prefix=e`, { headers: { accept: 'application/json' } });
      assert.equal(JSON.parse(viaAccept.text).length, 1);
    });
  });

  test('DELETE: 409 while objects remain, 204 once empty, then gone; a new PUT brings it back', async () => {
    const path = fresh();
    await create(path);
    await putRow(path, 'x');
    const conflict = await node.request('DELETE', path, { headers: { 'x-timestamp': t.next() } });
    assert.equal(conflict.status, 409);
    await deleteRow(path, 'x');
    assert.equal((await node.request('DELETE', path, { headers: { 'x-timestamp': t.next() } })).status, 204);
    assert.equal((await node.request('HEAD', path)).status, 404);
    assert.equal((await node.request('GET', `${path}?format=json`)).status, 404);
    assert.equal((await node.request('DELETE', path, { headers: { 'x-timestamp': t.next() } })).status, 404);
    assert.equal((await node.request('DELETE', fresh(), { headers: { 'x-timestamp': t.next() } })).status, 404);
    assert.equal((await create(path)).status, 201);
    assert.equal((await node.request('HEAD', path)).status, 204);
  });

  test('a database file replaced under its name (as the replicator does) is the one served from then on', async () => {
    const path = fresh();
    await create(path);
    await putRow(path, 'one');
    const hash = hashPath('AUTH_test', path.split('/')[4]!, undefined, { prefix: HASH_PREFIX, suffix: HASH_SUFFIX }).hex;
    const file = join(node.devicePath('sda'), 'containers', '5', hash.slice(-3), hash, `${hash}.db`);
    copyFileSync(file, `${file}.copy`);
    await putRow(path, 'two');
    assert.equal((await node.request('HEAD', path)).headers['x-container-object-count'], '2');
    renameSync(`${file}.copy`, file);
    assert.equal((await node.request('HEAD', path)).headers['x-container-object-count'], '1');
    assert.deepEqual(await names(path), ['one']);
  });

  test('containers of "."-accounts are created by their first row', async () => {
    const path = '/sda/5/.expiring_objects/1700000000';
    assert.equal((await putRow(path, '1700000000-a/c/o')).status, 201);
    assert.deepEqual(await names(path), ['1700000000-a/c/o']);
  });
});
