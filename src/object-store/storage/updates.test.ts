// The updates storage servers send each other: object → container (listings) and
// container → account (counts), and what is saved for later when a server is down.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { hashPath } from '../ring/hash.ts';
import { EXPIRER_ACCOUNT, expirerContainer } from './object/expirer-queue.ts';
import { clock, eventually, filesUnder, HASH_PREFIX, HASH_SUFFIX, startNode, type TestNode } from './test-support.ts';

const secrets = { prefix: HASH_PREFIX, suffix: HASH_SUFFIX };

/** A port nothing listens on. */
async function deadPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('updates between storage servers', () => {
  let node: TestNode;
  const t = clock();
  const account = '/sda/1/AUTH_u';
  const container = '/sda/2/AUTH_u/c';
  let accountHeaders: Record<string, string>;
  let containerHeaders: Record<string, string>;
  const listing = async (path: string) => JSON.parse((await node.request('GET', `${path}?format=json`)).text) as Array<Record<string, unknown>>;

  before(async () => {
    // One server plays every part; a generous wait makes each object write return after its container update.
    node = await startNode(['sda'], { containerUpdateTimeoutMs: 10_000 });
    accountHeaders = { 'x-account-host': node.host, 'x-account-device': 'sda', 'x-account-partition': '1' };
    containerHeaders = { 'x-container-host': node.host, 'x-container-device': 'sda', 'x-container-partition': '2' };
    await node.request('PUT', account, { headers: { 'x-timestamp': t.next() } });
    assert.equal((await node.request('PUT', container, { headers: { 'x-timestamp': t.next(), ...accountHeaders } })).status, 201);
  });
  after(() => node.close());

  test('a container PUT is reported to its account at once', async () => {
    const rows = await listing(account);
    assert.deepEqual(rows.map((r) => [r.name, r.count, r.bytes]), [['c', 0, 0]]);
  });

  test('object PUT and DELETE reach the container listing, and the counts reach the account', async () => {
    const put = await node.request('PUT', '/sda/3/AUTH_u/c/photo.jpg', { headers: { 'x-timestamp': t.next(), 'content-type': 'image/jpeg', ...containerHeaders }, body: 'twelve bytes' });
    assert.equal(put.status, 201);
    const [row] = await listing(container);
    assert.equal(row!.name, 'photo.jpg');
    assert.equal(row!.bytes, 12);
    assert.equal(row!.content_type, 'image/jpeg');
    assert.equal(`"${row!.hash}"`, put.headers.etag);
    await eventually(async () => {
      const head = await node.request('HEAD', account);
      assert.equal(head.headers['x-account-object-count'], '1');
      assert.equal(head.headers['x-account-bytes-used'], '12');
    });
    assert.deepEqual((await listing(account)).map((r) => [r.name, r.count, r.bytes]), [['c', 1, 12]]);

    await node.request('POST', '/sda/3/AUTH_u/c/photo.jpg', { headers: { 'x-timestamp': t.next(), 'content-type': 'image/png', ...containerHeaders } });
    assert.equal((await listing(container))[0]!.content_type, 'image/png', 'a POSTed type reaches the listing');

    assert.equal((await node.request('DELETE', '/sda/3/AUTH_u/c/photo.jpg', { headers: { 'x-timestamp': t.next(), ...containerHeaders } })).status, 204);
    assert.deepEqual(await listing(container), []);
    await eventually(async () => {
      const head = await node.request('HEAD', account);
      assert.equal(head.headers['x-account-object-count'], '0');
      assert.equal(head.headers['x-account-bytes-used'], '0');
    });
  });

  test('a container DELETE is reported to its account', async () => {
    const other = '/sda/2/AUTH_u/short-lived';
    await node.request('PUT', other, { headers: { 'x-timestamp': t.next(), ...accountHeaders } });
    assert.ok((await listing(account)).some((r) => r.name === 'short-lived'));
    assert.equal((await node.request('DELETE', other, { headers: { 'x-timestamp': t.next(), ...accountHeaders } })).status, 204);
    assert.ok(!(await listing(account)).some((r) => r.name === 'short-lived'));
  });

  test('a container PUT whose account does not exist is a 404', async () => {
    const res = await node.request('PUT', '/sda/2/AUTH_nobody/c', {
      headers: { 'x-timestamp': t.next(), 'x-account-host': node.host, 'x-account-device': 'sda', 'x-account-partition': '1' },
    });
    assert.equal(res.status, 404);
  });

  test('when the container server is down the write still succeeds and the update waits in async_pending', async () => {
    const port = await deadPort();
    const timestamp = t.next();
    const res = await node.request('PUT', '/sda/3/AUTH_u/c/later.txt', {
      headers: { 'x-timestamp': timestamp, 'content-type': 'text/plain', 'x-container-host': `127.0.0.1:${port}`, 'x-container-device': 'sda', 'x-container-partition': '2' },
      body: 'abc',
    });
    assert.equal(res.status, 201);
    const hash = hashPath('AUTH_u', 'c', 'later.txt', secrets).hex;
    const pendingDir = join(node.devicePath('sda'), 'async_pending');
    assert.deepEqual(filesUnder(pendingDir), [join(hash.slice(-3), `${hash}-${timestamp}`)]);
    const pending = JSON.parse(readFileSync(join(pendingDir, hash.slice(-3), `${hash}-${timestamp}`), 'utf8'));
    assert.equal(pending.op, 'PUT');
    assert.equal(pending.account, 'AUTH_u');
    assert.equal(pending.container, 'c');
    assert.equal(pending.obj, 'later.txt');
    assert.equal(pending.headers['x-size'], '3');
    assert.equal(pending.headers['x-timestamp'], timestamp);
    assert.equal(pending.headers['x-backend-server-type'], 'container');
    assert.deepEqual(pending.targets, [{ host: `127.0.0.1:${port}`, device: 'sda', partition: '2' }]);
    assert.deepEqual(filesUnder(join(node.devicePath('sda'), 'tmp')), []);
    assert.equal((await node.request('GET', '/sda/3/AUTH_u/c/later.txt')).text, 'abc');
  });

  test('an update the container server refuses is saved too', async () => {
    const timestamp = t.next();
    const res = await node.request('DELETE', '/sda/3/AUTH_u/no-such-container/x', {
      headers: { 'x-timestamp': timestamp, 'x-container-host': node.host, 'x-container-device': 'sda', 'x-container-partition': '2' },
    });
    assert.equal(res.status, 404);
    const hash = hashPath('AUTH_u', 'no-such-container', 'x', secrets).hex;
    const pending = JSON.parse(readFileSync(join(node.devicePath('sda'), 'async_pending', hash.slice(-3), `${hash}-${timestamp}`), 'utf8'));
    assert.equal(pending.op, 'DELETE');
  });

  test('X-Delete-At queues the object for the expirer where the proxy says, and a change removes the old entry later', async () => {
    const deleteAt = Math.floor(Number(t.next())) + 86_400;
    const queue = expirerContainer(deleteAt, hashPath('AUTH_u', 'c', 'temp', secrets).hex);
    const res = await node.request('PUT', '/sda/3/AUTH_u/c/temp', {
      headers: {
        'x-timestamp': t.next(),
        'content-type': 'text/plain',
        'x-delete-at': String(deleteAt),
        'x-delete-at-host': node.host,
        'x-delete-at-device': 'sda',
        'x-delete-at-partition': '4',
        'x-delete-at-container': queue,
      },
      body: 'tmp',
    });
    assert.equal(res.status, 201);
    const [task] = await listing(`/sda/4/${EXPIRER_ACCOUNT}/${queue}`);
    assert.equal(task!.name, `${deleteAt}-AUTH_u/c/temp`);
    assert.equal(task!.content_type, 'text/plain;swift_expirer_bytes=3');

    const postTs = t.next();
    await node.request('POST', '/sda/3/AUTH_u/c/temp', { headers: { 'x-timestamp': postTs } });
    const taskHash = hashPath(EXPIRER_ACCOUNT, queue, `${deleteAt}-AUTH_u/c/temp`, secrets).hex;
    const pending = JSON.parse(readFileSync(join(node.devicePath('sda'), 'async_pending', taskHash.slice(-3), `${taskHash}-${postTs}`), 'utf8'));
    assert.equal(pending.op, 'DELETE');
    assert.equal(pending.account, EXPIRER_ACCOUNT);
    assert.equal(pending.container, queue);
  });
});
