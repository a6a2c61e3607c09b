// The expirer through the proxy code in this process, over storage servers in this process.
// The queue entries are written the way an object server writes them (a task row in the
// .expiring_objects container of the expiry's day), so this tests the expirer alone.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { silentLogger } from '../../core/log/logger.ts';
import { Capabilities } from '../capabilities.ts';
import { createProxyHandler } from '../proxy/app.ts';
import { address } from '../ring/ring-data.ts';
import { hashPath } from '../ring/hash.ts';
import { BackendClient } from '../storage/backend-client.ts';
import { EMPTY_ETAG, EXPIRER_ACCOUNT, expirerContainer, expirerTaskName } from '../storage/object/expirer-queue.ts';
import { backendPath } from '../storage/request-path.ts';
import { HASH_PREFIX, HASH_SUFFIX } from '../storage/test-support.ts';
import { Timestamp } from '../storage/timestamp.ts';
import { ContainerUpdater } from './container-updater.ts';
import { ObjectExpirer } from './expirer.ts';
import { InternalClient } from './internal-client.ts';
import { startWorkerCluster, type WorkerTestCluster } from './test-support.ts';

describe('object expirer', () => {
  let cluster: WorkerTestCluster;
  let proxy: ReturnType<typeof createProxyHandler>;
  let client: InternalClient;
  const backend = new BackendClient({ connectMs: 500, responseMs: 3000 });
  const week = 7 * 86_400;

  before(async () => {
    cluster = await startWorkerCluster(3);
    proxy = createProxyHandler({ rings: () => cluster.rings, logger: silentLogger, nodeTimeoutMs: 3000, connTimeoutMs: 500, accountAutocreate: true, capabilities: new Capabilities() });
    client = new InternalClient(proxy.handler, 'test');
    assert.equal((await client.request('PUT', '/v1/AUTH_e/c')).status, 201);
  });
  after(async () => {
    backend.close();
    await proxy.close();
    await cluster.close();
  });

  const expirer = (now?: () => number) => new ObjectExpirer({ client, containerRing: () => cluster.rings.container, backend, logger: silentLogger, tasksPerSecond: 0, now });

  /** Queues `object` to expire at `deleteAt`, on every primary of its task container, as object servers do. */
  async function queue(object: string, deleteAt: number): Promise<{ container: string; task: string }> {
    const container = expirerContainer(deleteAt, hashPath('AUTH_e', 'c', object, { prefix: HASH_PREFIX, suffix: HASH_SUFFIX }).hex);
    const task = expirerTaskName(deleteAt, 'AUTH_e', 'c', object);
    const { partition, nodes } = cluster.rings.container.getNodes(EXPIRER_ACCOUNT, container);
    for (const node of nodes) {
      const status = await backend.send({
        host: address(node),
        method: 'PUT',
        path: backendPath(node.device, partition, EXPIRER_ACCOUNT, container, task),
        headers: { 'x-backend-server-type': 'container', 'x-timestamp': Timestamp.now().internal, 'x-size': '0', 'x-content-type': 'text/plain', 'x-etag': EMPTY_ETAG },
      });
      assert.equal(status, 201);
    }
    // As in Swift, the account hears of a container made by its first row from the container updater.
    for (let i = 0; i < cluster.nodes.length; i++) {
      const updater = new ContainerUpdater({ devices: cluster.localNode(i).devices, ring: () => cluster.rings.account, client: backend, logger: silentLogger, containersPerSecond: 0 });
      try {
        await updater.runOnce();
      } finally {
        updater.close();
      }
    }
    return { container, task };
  }
  const tasks = async (container: string) => {
    const res = await client.request('GET', `/v1/${EXPIRER_ACCOUNT}/${container}`, { query: { format: 'json' } });
    return res.status === 200 ? (JSON.parse(res.body.toString()) as Array<{ name: string }>).map((t) => t.name) : [];
  };
  const listing = async () => (JSON.parse((await client.request('GET', '/v1/AUTH_e/c', { query: { format: 'json' } })).body.toString()) as Array<{ name: string }>).map((o) => o.name);

  test('an object past its X-Delete-At is deleted as of that time, leaves the listing, and its task the queue', async () => {
    const deleteAt = Math.floor(Date.now() / 1000) + 2;
    assert.equal((await client.request('PUT', '/v1/AUTH_e/c/old', { headers: { 'x-delete-at': String(deleteAt), 'content-length': '0' } })).status, 201);
    const { container, task } = await queue('old', deleteAt);
    // Before its time: nothing happens.
    assert.deepEqual(await expirer(() => deleteAt - 1).runOnce(), { expired: 0, dropped: 0, failures: 0 });
    assert.deepEqual(await tasks(container), [task]);

    assert.deepEqual(await expirer(() => deleteAt + 1).runOnce(), { expired: 1, dropped: 0, failures: 0 });
    assert.deepEqual(await listing(), []);
    const head = await client.request('HEAD', '/v1/AUTH_e/c/old', { headers: { 'x-backend-open-expired': 'true' } });
    assert.equal(head.status, 404);
    assert.deepEqual(await tasks(container), []);
    // The next pass finds the task container empty and removes it.
    await expirer(() => deleteAt + 1).runOnce();
    const containers = (JSON.parse((await client.request('GET', `/v1/${EXPIRER_ACCOUNT}`, { query: { format: 'json' } })).body.toString() || '[]') as Array<{ name: string }>).map((c) => c.name);
    assert.ok(!containers.includes(container));
  });

  test('an object given another expiry (or none) since is left alone; its stale task goes after reclaim_age', async () => {
    const deleteAt = Math.floor(Date.now() / 1000) + 2;
    assert.equal((await client.request('PUT', '/v1/AUTH_e/c/kept', { headers: { 'content-length': '0' } })).status, 201);
    const { container, task } = await queue('kept', deleteAt);
    assert.deepEqual(await expirer(() => deleteAt + 1).runOnce(), { expired: 0, dropped: 0, failures: 1 });
    assert.equal((await client.request('HEAD', '/v1/AUTH_e/c/kept')).status, 200);
    assert.deepEqual(await tasks(container), [task]);

    assert.deepEqual(await expirer(() => deleteAt + week + 1).runOnce(), { expired: 0, dropped: 1, failures: 0 });
    assert.equal((await client.request('HEAD', '/v1/AUTH_e/c/kept')).status, 200);
    assert.deepEqual(await tasks(container), []);
  });
});
