import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { hashPath } from '../ring/hash.ts';
import { dbServerSuite, HASH_PREFIX, HASH_SUFFIX } from './test-support.ts';

describe('account server', () => {
  const { node, t, create, list, names } = dbServerSuite();
  let n = 0;
  const fresh = () => `/sda/7/AUTH_acct${++n}`;
  const report = (path: string, container: string, stats: { put?: string; del?: string; count?: number; bytes?: number } = {}) =>
    node.request('PUT', `${path}/${container}`, {
      headers: {
        'x-backend-server-type': 'account',
        'x-put-timestamp': stats.put ?? t.next(),
        'x-delete-timestamp': stats.del ?? '0',
        'x-object-count': String(stats.count ?? 0),
        'x-bytes-used': String(stats.bytes ?? 0),
      },
    });

  test('PUT creates the account (201) in accounts/<part>/<suffix>/<hash>/<hash>.db, then 202; HEAD shows its totals', async () => {
    const path = fresh();
    const timestamp = t.next();
    assert.equal((await node.request('PUT', path, { headers: { 'x-timestamp': timestamp } })).status, 201);
    const hash = hashPath(path.split('/')[3]!, undefined, undefined, { prefix: HASH_PREFIX, suffix: HASH_SUFFIX }).hex;
    assert.ok(existsSync(join(node.devicePath('sda'), 'accounts', '7', hash.slice(-3), hash, `${hash}.db`)));
    assert.equal((await create(path)).status, 202);
    const head = await node.request('HEAD', path);
    assert.equal(head.status, 204);
    assert.equal(head.headers['x-account-container-count'], '0');
    assert.equal(head.headers['x-account-object-count'], '0');
    assert.equal(head.headers['x-account-bytes-used'], '0');
    assert.ok(head.headers['x-put-timestamp']);
    assert.equal((await node.request('HEAD', fresh())).status, 404);
  });

  test('metadata: user and system metadata from PUT and POST; an empty value removes a key; limits are a 400', async () => {
    const path = fresh();
    await create(path, { 'x-account-meta-team': 'blue', 'x-account-sysmeta-quota': '10', 'x-account-meta-temp': 'x' });
    assert.equal((await node.request('POST', path, { headers: { 'x-timestamp': t.next(), 'x-account-meta-temp': '' } })).status, 204);
    const head = await node.request('HEAD', path);
    assert.equal(head.headers['x-account-meta-team'], 'blue');
    assert.equal(head.headers['x-account-sysmeta-quota'], '10');
    assert.equal(head.headers['x-account-meta-temp'], undefined);
    const big = await node.request('POST', path, { headers: { 'x-timestamp': t.next(), [`x-account-meta-${'k'.repeat(129)}`]: 'v' } });
    assert.equal(big.status, 400);
    assert.match(big.text, /Metadata name too long/);
  });

  test('container reports make the listing and the totals; a report of a deleted container removes it', async () => {
    const path = fresh();
    await create(path);
    assert.equal((await report(path, 'photos', { count: 3, bytes: 300 })).status, 201);
    assert.equal((await report(path, 'docs', { count: 1, bytes: 10 })).status, 201);
    const put = t.next();
    assert.equal((await report(path, 'photos', { put, count: 4, bytes: 400 })).status, 201);
    let head = await node.request('HEAD', path);
    assert.equal(head.headers['x-account-container-count'], '2');
    assert.equal(head.headers['x-account-object-count'], '5');
    assert.equal(head.headers['x-account-bytes-used'], '410');
    const rows = await list(path);
    assert.deepEqual(rows[1], { name: 'photos', count: 4, bytes: 400, last_modified: new Date(Math.floor(Number(put)) * 1000).toISOString().slice(0, 19) + `.${put.split('.')[1]}0` });

    const gone = await report(path, 'docs', { put: t.at(-100), del: t.next(), count: 0, bytes: 0 });
    assert.equal(gone.status, 204);
    head = await node.request('HEAD', path);
    assert.equal(head.headers['x-account-container-count'], '1');
    assert.equal(head.headers['x-account-object-count'], '4');
    assert.deepEqual(await names(path), ['photos']);

    assert.equal((await report(fresh(), 'c')).status, 404, 'no account, no row');
    const incomplete = await node.request('PUT', `${path}/c`, { headers: { 'x-backend-server-type': 'account', 'x-put-timestamp': t.next() } });
    assert.equal(incomplete.status, 400);
  });

  test('a report without X-Backend-Server-Type is still recognised by its X-Put-Timestamp and X-Object-Count', async () => {
    const path = fresh();
    await create(path);
    const res = await node.request('PUT', `${path}/bare`, { headers: { 'x-put-timestamp': t.next(), 'x-delete-timestamp': '0', 'x-object-count': '0', 'x-bytes-used': '0' } });
    assert.equal(res.status, 201);
    assert.deepEqual(await names(path), ['bare']);
  });

  test('listing options: prefix, delimiter, marker, end_marker, limit, reverse; an empty plain listing is a 204', async () => {
    const path = fresh();
    await create(path);
    for (const name of ['a', 'b-1', 'b-2', 'c']) await report(path, name);
    assert.deepEqual(await names(path), ['a', 'b-1', 'b-2', 'c']);
    assert.deepEqual(await names(path, '&prefix=b'), ['b-1', 'b-2']);
    assert.deepEqual(await names(path, '&delimiter=-'), ['a', 'b-', 'c']);
    assert.deepEqual(await names(path, '&marker=b-1&end_marker=c'), ['b-2']);
    assert.deepEqual(await names(path, '&limit=2&reverse=true'), ['c', 'b-2']);
    assert.equal((await node.request('GET', `${path}?prefix=zz`)).status, 204);
    assert.equal((await node.request('GET', `${path}?limit=10001`)).status, 412);
    const plain = await node.request('GET', path);
    assert.equal(plain.text, 'a\nb-1\nb-2\nc\n');
  });

  test('DELETE marks the account deleted: 404 afterwards, saying so, and a PUT is refused until it is reclaimed', async () => {
    const path = fresh();
    await create(path);
    await report(path, 'still-here', { count: 1, bytes: 1 });
    const deleted = await node.request('DELETE', path, { headers: { 'x-timestamp': t.next() } });
    assert.equal(deleted.status, 204);
    assert.equal(deleted.headers['x-account-status'], 'Deleted');
    const head = await node.request('HEAD', path);
    assert.equal(head.status, 404);
    assert.equal(head.headers['x-account-status'], 'Deleted');
    const again = await create(path);
    assert.equal(again.status, 403);
    assert.equal(again.text, 'Recently deleted');
    assert.equal((await report(path, 'late')).status, 404);
    assert.equal((await node.request('DELETE', path, { headers: { 'x-timestamp': t.next() } })).status, 404);
    assert.equal((await node.request('DELETE', fresh(), { headers: { 'x-timestamp': t.next() } })).status, 404);
  });

  test('"."-accounts are created by their first container report', async () => {
    assert.equal((await report('/sda/7/.expiring_objects', '1700000000')).status, 201);
    assert.deepEqual(await names('/sda/7/.expiring_objects'), ['1700000000']);
  });
});
