// The object replicator against storage servers in this process: what a pass of one node
// brings to the others (data, metadata, tombstones; newest wins), tombstone reclaiming, and a
// handoff taking the place of an unmounted primary.
import assert from 'node:assert/strict';
import { existsSync, renameSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { silentLogger } from '../../core/log/logger.ts';
import { hashPath } from '../ring/hash.ts';
import { objectHashDir } from '../storage/layout.ts';
import { clock, HASH_PREFIX, HASH_SUFFIX } from '../storage/test-support.ts';
import { Timestamp } from '../storage/timestamp.ts';
import { ObjectReplicator } from './replicator.ts';
import { startWorkerCluster, type WorkerTestCluster } from './test-support.ts';

const secrets = { prefix: HASH_PREFIX, suffix: HASH_SUFFIX };

describe('object replicator', () => {
  let cluster: WorkerTestCluster;
  const t = clock();

  before(async () => {
    cluster = await startWorkerCluster(4);
  });
  after(() => cluster.close());

  /** The object's primaries as node indexes, and a backend request to the object on node i. */
  const place = (object: string) => {
    const { partition, nodes } = cluster.rings.object.getNodes('AUTH_r', 'c', object);
    const primaries = nodes.map((dev) => cluster.nodeOf(dev));
    const path = (i: number) => `/${cluster.device(i)}/${partition}/AUTH_r/c/${object}`;
    return { partition, primaries, path, request: (i: number, method: string, headers: Record<string, string> = {}, body?: string) => cluster.nodes[i]!.request(method, path(i), { headers, body }) };
  };
  const replicate = (i: number, now?: () => number) =>
    new ObjectReplicator({ node: cluster.localNode(i), ring: () => cluster.rings.object, client: cluster.client, logger: silentLogger, now }).runOnce();

  test('one pass sends peers the data, metadata and tombstones they lack, and never overwrites a newer copy', async () => {
    // with metadata and a later POST, on one node only
    const rich = place('rich');
    const [a, b, c] = rich.primaries as [number, number, number];
    const putAt = t.next();
    assert.equal((await rich.request(a, 'PUT', { 'x-timestamp': putAt, 'content-type': 'text/plain', 'x-object-meta-colour': 'red', 'x-object-sysmeta-owner': 'me', 'content-disposition': 'inline' }, 'rich body')).status, 201);
    const postAt = t.next();
    assert.equal((await rich.request(a, 'POST', { 'x-timestamp': postAt, 'x-object-meta-shape': 'round', 'content-type': 'text/x-new' })).status, 202);
    // deleted on one node after all had it
    const gone = place('gone');
    const putGone = t.next();
    for (const i of gone.primaries) assert.equal((await gone.request(i, 'PUT', { 'x-timestamp': putGone, 'content-type': 'text/plain' }, 'old')).status, 201);
    const deletedAt = t.next();
    assert.equal((await gone.request(gone.primaries[0]!, 'DELETE', { 'x-timestamp': deletedAt })).status, 204);
    // written again, newer, on another node
    const raced = place('raced');
    const older = t.next();
    const newer = t.next();
    assert.equal((await raced.request(raced.primaries[0]!, 'PUT', { 'x-timestamp': older, 'content-type': 'text/plain' }, 'older')).status, 201);
    assert.equal((await raced.request(raced.primaries[1]!, 'PUT', { 'x-timestamp': newer, 'content-type': 'text/plain' }, 'newer')).status, 201);

    for (const i of new Set([a, gone.primaries[0]!, raced.primaries[0]!])) await replicate(i);

    for (const i of [b, c]) {
      const got = await rich.request(i, 'GET');
      assert.equal(got.status, 200);
      assert.equal(got.text, 'rich body');
      assert.equal(got.headers['x-object-meta-shape'], 'round');
      assert.equal(got.headers['x-object-meta-colour'], undefined, 'the POST replaced the user metadata');
      assert.equal(got.headers['x-object-sysmeta-owner'], 'me');
      assert.equal(got.headers['content-type'], 'text/x-new');
      // the POST replaced the allowed headers too, as on the node that took it
      assert.equal(got.headers['content-disposition'], (await rich.request(a, 'HEAD')).headers['content-disposition']);
      assert.equal(got.headers['x-backend-timestamp'], Timestamp.parse(postAt).internal);
      assert.equal(got.headers['x-backend-data-timestamp'], Timestamp.parse(putAt).internal);
    }
    for (const i of gone.primaries) {
      const head = await gone.request(i, 'HEAD');
      assert.equal(head.status, 404);
      assert.equal(head.headers['x-backend-timestamp'], Timestamp.parse(deletedAt).internal);
    }
    assert.equal((await raced.request(raced.primaries[1]!, 'GET')).text, 'newer');
    await replicate(raced.primaries[1]!);
    for (const i of raced.primaries) assert.equal((await raced.request(i, 'GET')).text, 'newer');

    // Everyone agrees now: every node's suffix hashes match its peers', so another pass sends nothing.
    for (let i = 0; i < cluster.nodes.length; i++) assert.equal((await replicate(i)).suffixesSynced, 0);
  });

  test('objects that expired are copied as they are', async () => {
    const expiring = place('expiring');
    const [a, b] = expiring.primaries as [number, number];
    const at = Math.floor(Date.now() / 1000) + 1;
    assert.equal((await expiring.request(a, 'PUT', { 'x-timestamp': Timestamp.fromSeconds(at - 1).normal, 'content-type': 'text/plain', 'x-delete-at': String(at) }, 'brief')).status, 201);
    while (Date.now() / 1000 <= at) await new Promise((r) => setTimeout(r, 50));
    await replicate(a);
    assert.equal((await expiring.request(b, 'GET')).status, 404);
    const opened = await expiring.request(b, 'GET', { 'x-backend-open-expired': 'true' });
    assert.equal(opened.status, 200);
    assert.equal(opened.headers['x-delete-at'], String(at));
  });

  test('tombstones older than reclaim_age are removed; younger ones stay', async () => {
    const old = place('old-delete');
    const young = place('young-delete');
    const week = 7 * 86_400;
    const longAgo = Timestamp.fromSeconds(Date.now() / 1000 - week - 3600).normal;
    for (const i of old.primaries) await old.request(i, 'DELETE', { 'x-timestamp': longAgo });
    for (const i of young.primaries) await young.request(i, 'DELETE', { 'x-timestamp': t.next() });
    const dirOf = (i: number, object: string) => objectHashDir(cluster.nodes[i]!.devicePath(cluster.device(i)), place(object).partition, hashPath('AUTH_r', 'c', object, secrets).hex);
    for (const i of old.primaries) assert.ok(existsSync(dirOf(i, 'old-delete')));
    for (let i = 0; i < cluster.nodes.length; i++) await replicate(i);
    for (const i of old.primaries) assert.ok(!existsSync(dirOf(i, 'old-delete')), 'an expired tombstone was kept');
    for (const i of young.primaries) assert.ok(existsSync(dirOf(i, 'young-delete')), 'a recent tombstone was reclaimed');
  });

  test('a primary whose device is unmounted (507) gets its replica put on a handoff instead', async () => {
    const lonely = place('lonely');
    const [a, , c] = lonely.primaries as [number, number, number];
    const handoff = [0, 1, 2, 3].find((i) => !lonely.primaries.includes(i))!;
    assert.equal((await lonely.request(a, 'PUT', { 'x-timestamp': t.next(), 'content-type': 'text/plain' }, 'alone')).status, 201);
    const devicePath = cluster.nodes[c]!.devicePath(cluster.device(c));
    renameSync(devicePath, `${devicePath}.unmounted`);
    try {
      await replicate(a);
    } finally {
      renameSync(`${devicePath}.unmounted`, devicePath);
    }
    const onHandoff = await cluster.nodes[handoff]!.request('GET', `/${cluster.device(handoff)}/${lonely.partition}/AUTH_r/c/lonely`);
    assert.equal(onHandoff.status, 200);
    assert.equal(onHandoff.text, 'alone');
    // The handoff's own pass then brings it to the primary that is back, and lets go of it.
    await replicate(handoff);
    assert.equal((await lonely.request(c, 'GET')).text, 'alone');
    assert.equal((await cluster.nodes[handoff]!.request('HEAD', `/${cluster.device(handoff)}/${lonely.partition}/AUTH_r/c/lonely`)).status, 404);
  });
});
