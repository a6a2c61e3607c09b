// The object updater over storage servers in this process: a saved update reaches every
// container primary and its file goes; an older update of the same object is dropped unsent;
// a primary that is down keeps the file, which then remembers who has it; an unreadable file
// is quarantined.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { silentLogger } from '../../core/log/logger.ts';
import { hashPath } from '../ring/hash.ts';
import { BackendClient } from '../storage/backend-client.ts';
import { asyncPendingPath } from '../storage/layout.ts';
import { clock, HASH_PREFIX, HASH_SUFFIX } from '../storage/test-support.ts';
import { ObjectUpdater } from './updater.ts';
import { startWorkerCluster, type WorkerTestCluster } from './test-support.ts';

const secrets = { prefix: HASH_PREFIX, suffix: HASH_SUFFIX };

describe('object updater', () => {
  let cluster: WorkerTestCluster;
  const backend = new BackendClient({ connectMs: 500, responseMs: 3000 });
  const t = clock();
  let device: string;

  before(async () => {
    cluster = await startWorkerCluster(3);
    const { partition, nodes } = cluster.rings.container.getNodes('AUTH_u', 'c');
    for (const dev of nodes) {
      const i = cluster.nodeOf(dev);
      assert.equal((await cluster.nodes[i]!.request('PUT', `/${dev.device}/${partition}/AUTH_u/c`, { headers: { 'x-timestamp': t.next() } })).status, 201);
    }
    device = cluster.nodes[0]!.devicePath(cluster.device(0));
  });
  after(async () => {
    backend.close();
    await cluster.close();
  });

  const updater = () => new ObjectUpdater({ devices: cluster.localNode(0).devices, ring: () => cluster.rings.container, client: backend, logger: silentLogger, objectsPerSecond: 0 });
  /** Saves an update as an object server does when a container server does not answer. */
  const save = (object: string, size: number) => {
    const timestamp = t.next();
    const path = asyncPendingPath(device, hashPath('AUTH_u', 'c', object, secrets).hex, timestamp);
    mkdirSync(join(path, '..'), { recursive: true });
    const headers = { 'x-timestamp': timestamp, 'x-size': String(size), 'x-content-type': 'text/plain', 'x-etag': 'e'.repeat(32), 'x-backend-server-type': 'container' };
    writeFileSync(path, JSON.stringify({ op: 'PUT', account: 'AUTH_u', container: 'c', obj: object, headers, targets: [] }));
    return path;
  };
  const listings = async () => {
    const { partition, nodes } = cluster.rings.container.getNodes('AUTH_u', 'c');
    return Promise.all(
      nodes.map(async (dev) => {
        const res = await cluster.nodes[cluster.nodeOf(dev)]!.request('GET', `/${dev.device}/${partition}/AUTH_u/c?format=json`);
        return (JSON.parse(res.text) as Array<{ name: string; bytes: number }>).map((o) => [o.name, o.bytes]);
      }),
    );
  };

  test('the newest update of each object reaches every container primary; older ones are dropped unsent', async () => {
    const older = save('doc', 1);
    const newer = save('doc', 2);
    const stats = await updater().runOnce();
    assert.equal(stats.successes, 1);
    assert.equal(stats.outdated, 1);
    assert.ok(!existsSync(older) && !existsSync(newer));
    for (const listing of await listings()) assert.deepEqual(listing, [['doc', 2]]);
  });

  test('with a container primary down, the file stays and remembers who took it', async () => {
    const path = save('later', 7);
    const { nodes } = cluster.rings.container.getNodes('AUTH_u', 'c');
    // a container primary other than node 0, whose device holds the saved update
    const down = nodes.find((n) => cluster.nodeOf(n) !== 0)!;
    const downPath = cluster.nodes[cluster.nodeOf(down)]!.devicePath(down.device);
    renameSync(downPath, `${downPath}.away`);
    try {
      const stats = await updater().runOnce();
      assert.equal(stats.failures, 1);
      const others = nodes.filter((n) => n.id !== down.id).map((n) => n.id);
      assert.deepEqual((JSON.parse(readFileSync(path, 'utf8')) as { successes: number[] }).successes.sort(), others.sort());
    } finally {
      renameSync(`${downPath}.away`, downPath);
    }
    assert.equal((await updater().runOnce()).successes, 1);
    assert.ok(!existsSync(path));
    for (const listing of await listings()) assert.deepEqual(listing, [['doc', 2], ['later', 7]]);
  });

  test('a file that is not an update is quarantined', async () => {
    const path = asyncPendingPath(device, 'f'.repeat(32), t.next());
    mkdirSync(join(path, '..'), { recursive: true });
    writeFileSync(path, 'not json');
    assert.equal((await updater().runOnce()).quarantined, 1);
    assert.ok(!existsSync(path));
    assert.ok(readdirSync(join(device, 'quarantined', 'objects')).includes(path.split('/').pop()!));
  });
});
