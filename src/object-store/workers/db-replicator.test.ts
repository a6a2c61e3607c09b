// Account and container replication against storage servers in this process: a replica made
// where there was none, rows and metadata merged newest-wins both ways, nothing sent once in
// step, deleted databases reclaimed, and the REPORT endpoint's answers to bad requests.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import Database from 'better-sqlite3';
import { after, before, describe, test } from 'node:test';
import { silentLogger } from '../../core/log/logger.ts';
import { hashPath } from '../ring/hash.ts';
import { dbPath } from '../storage/layout.ts';
import { clock, HASH_PREFIX, HASH_SUFFIX } from '../storage/test-support.ts';
import { Timestamp } from '../storage/timestamp.ts';
import { DbReplicator } from './db-replicator.ts';
import { startWorkerCluster, type WorkerTestCluster } from './test-support.ts';

const secrets = { prefix: HASH_PREFIX, suffix: HASH_SUFFIX };
const ROW = { 'x-backend-server-type': 'container', 'x-content-type': 'text/plain' };

describe('account and container replication', () => {
  let cluster: WorkerTestCluster;
  const t = clock();

  before(async () => {
    cluster = await startWorkerCluster(3);
  });
  after(() => cluster.close());

  const containerAt = (container: string) => {
    const { partition, nodes } = cluster.rings.container.getNodes('AUTH_d', container);
    const primaries = nodes.map((dev) => cluster.nodeOf(dev));
    const path = (i: number, object?: string) => `/${cluster.device(i)}/${partition}/AUTH_d/${container}${object ? `/${object}` : ''}`;
    return { partition, primaries, path, request: (i: number, method: string, headers: Record<string, string> = {}, object?: string) => cluster.nodes[i]!.request(method, path(i, object), { headers }) };
  };
  const listing = async (c: ReturnType<typeof containerAt>, i: number) =>
    (JSON.parse((await cluster.nodes[i]!.request('GET', `${c.path(i)}?format=json`)).text) as Array<{ name: string; bytes: number }>).map((r) => [r.name, r.bytes]);
  const replicate = async (kind: 'container' | 'account', i: number, now?: () => number) => {
    const replicator = new DbReplicator({ kind, node: cluster.localNode(i), ring: () => cluster.rings[kind], client: cluster.client, logger: silentLogger, now, perDiff: 2 });
    try {
      return await replicator.runOnce();
    } finally {
      replicator.close();
    }
  };
  const row = (c: ReturnType<typeof containerAt>, i: number, name: string, size: number, method = 'PUT') =>
    c.request(i, method, { ...ROW, 'x-timestamp': t.next(), 'x-size': String(size), 'x-etag': 'e'.repeat(32) }, name);

  test('a replica where there was none, rows and metadata merged newest-wins both ways, then nothing more to send', async () => {
    const c = containerAt('merge');
    const [a, b, z] = c.primaries as [number, number, number];
    assert.equal((await c.request(a, 'PUT', { 'x-timestamp': t.next(), 'x-container-meta-from-a': 'yes' })).status, 201);
    assert.equal((await c.request(b, 'PUT', { 'x-timestamp': t.next(), 'x-container-meta-from-b': 'yes' })).status, 201);
    for (const name of ['one', 'two', 'three', 'four', 'five']) assert.equal((await row(c, a, name, 1)).status, 201);
    assert.equal((await row(c, b, 'two', 22)).status, 201); // newer on b
    assert.equal((await row(c, b, 'six', 6)).status, 201);
    assert.equal((await row(c, b, 'five', 0, 'DELETE')).status, 204); // deleted on b, later

    const first = await replicate('container', a);
    assert.equal(first.created, 1, 'the third primary was not given a replica');
    await replicate('container', b);
    const expected = [['four', 1], ['one', 1], ['six', 6], ['three', 1], ['two', 22]];
    for (const i of [a, b, z]) {
      assert.deepEqual(await listing(c, i), expected, `node ${i}`);
      const head = await c.request(i, 'HEAD');
      assert.equal(head.headers['x-container-meta-from-a'], 'yes');
      assert.equal(head.headers['x-container-meta-from-b'], 'yes');
      assert.equal(head.headers['x-container-object-count'], '5');
    }
    await replicate('container', z);
    const settled = await replicate('container', a);
    assert.equal(settled.diffs, 0);
    assert.equal(settled.inSync, 2);
  });

  test('a container deleted longer ago than reclaim_age, its account told, is removed with its account row', async () => {
    const c = containerAt('old');
    const account = cluster.rings.account.getNodes('AUTH_d');
    const weekAgo = Date.now() / 1000 - 8 * 86_400;
    for (const dev of account.nodes) {
      const i = cluster.nodeOf(dev);
      await cluster.nodes[i]!.request('PUT', `/${cluster.device(i)}/${account.partition}/AUTH_d`, { headers: { 'x-timestamp': Timestamp.fromSeconds(weekAgo - 10).normal } });
    }
    const accountHeaders = {
      'x-account-partition': String(account.partition),
      'x-account-host': account.nodes.map((n) => `127.0.0.1:${n.port}`).join(','),
      'x-account-device': account.nodes.map((n) => n.device).join(','),
    };
    for (const i of c.primaries) {
      assert.equal((await c.request(i, 'PUT', { 'x-timestamp': Timestamp.fromSeconds(weekAgo - 5).normal, ...accountHeaders })).status, 201);
      assert.equal((await c.request(i, 'DELETE', { 'x-timestamp': Timestamp.fromSeconds(weekAgo).normal, ...accountHeaders })).status, 204);
    }
    const file = (i: number) => dbPath(cluster.nodes[i]!.devicePath(cluster.device(i)), 'container', c.partition, hashPath('AUTH_d', 'old', undefined, secrets).hex);
    for (const i of c.primaries) assert.ok(existsSync(file(i)));
    for (const i of c.primaries) assert.equal((await replicate('container', i)).removed, 1);
    for (const i of c.primaries) assert.ok(!existsSync(file(i)));
    // The account kept a deleted row for it (so replicas learn of the delete) until reclaim_age passed.
    const i = cluster.nodeOf(account.nodes[0]!);
    const accountFile = dbPath(cluster.nodes[i]!.devicePath(cluster.device(i)), 'account', account.partition, hashPath('AUTH_d', undefined, undefined, secrets).hex);
    const rowsNamedOld = () => {
      const db = new Database(accountFile, { readonly: true });
      try {
        return (db.prepare("SELECT COUNT(*) AS n FROM container WHERE name = 'old'").get() as { n: number }).n;
      } finally {
        db.close();
      }
    };
    assert.equal(rowsNamedOld(), 1);
    await replicate('account', i);
    assert.equal(rowsNamedOld(), 0);
  });

  test('the REPORT endpoint refuses what is not a replication request', async () => {
    const c = containerAt('bad');
    const i = c.primaries[0]!;
    const hash = hashPath('AUTH_d', 'bad', undefined, secrets).hex;
    const report = (body: string, path = `/${cluster.device(i)}/${c.partition}/${hash}`) =>
      cluster.nodes[i]!.request('REPORT', path, { headers: { 'x-backend-server-type': 'container', 'content-type': 'application/json' }, body });
    const info = { account: 'AUTH_d', container: 'bad', id: 'x', hash: '0'.repeat(32), max_row: -1, created_at: t.next(), put_timestamp: t.next(), delete_timestamp: '0', metadata: {} };
    assert.equal((await report('not json')).status, 400);
    assert.equal((await report(JSON.stringify({ op: 'explode' }))).status, 400);
    assert.equal((await report(JSON.stringify({ op: 'sync', info: { ...info, put_timestamp: 'yesterday' } }))).status, 400);
    assert.equal((await report(JSON.stringify({ op: 'sync', info }))).status, 404);
    assert.equal((await report(JSON.stringify({ op: 'merge_items', items: [], source_id: 'x' }))).status, 404);
    assert.equal((await report(JSON.stringify({ op: 'create', info: { ...info, container: 'other' } }))).status, 400);
    assert.equal((await report(JSON.stringify({ op: 'sync', info }), `/${cluster.device(i)}/${c.partition}/not-a-hash`)).status, 400);
    assert.equal((await report(JSON.stringify({ op: 'sync', info }), `/nodevice/${c.partition}/${hash}`)).status, 507);
    assert.equal((await report(JSON.stringify({ op: 'create', info }))).status, 200);
    assert.equal((await report(JSON.stringify({ op: 'merge_items', items: [{ name: 'x' }], source_id: 'x' }))).status, 400);
    assert.equal((await report(JSON.stringify({ op: 'merge_items', items: [{ ROWID: 1, name: 'x', created_at: 'soon' }], source_id: 'x' }))).status, 400);
  });
});
