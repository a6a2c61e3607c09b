// Durability with real processes: three storage servers as separate `tenrec serve
// object-store:storage` processes, a 3-replica ring, the proxy in this process. A node is
// SIGKILLed during writes; corrupt bytes on disk are caught; writes that land on a handoff
// go home; saved container updates and expiries are carried out. The background workers
// run here, one pass at a time, against each node's devices, as each node would run them.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import { silentLogger } from '../core/log/logger.ts';
import { createBackendClient } from './proxy/backend.ts';
import { hashPath } from './ring/hash.ts';
import { BackendClient } from './storage/backend-client.ts';
import { DeviceSet } from './storage/devices.ts';
import { dbPath } from './storage/layout.ts';
import { Timestamp } from './storage/timestamp.ts';
import { ObjectAuditor } from './workers/auditor.ts';
import { ContainerUpdater } from './workers/container-updater.ts';
import { DbReplicator } from './workers/db-replicator.ts';
import { ObjectExpirer } from './workers/expirer.ts';
import { InternalClient } from './workers/internal-client.ts';
import { ObjectReplicator } from './workers/replicator.ts';
import { ObjectUpdater } from './workers/updater.ts';
import { CLUSTER_HASH, startProcessCluster, type ProcessCluster } from './testing/process-cluster.ts';

const ACCOUNT = 'AUTH_durable';

/** The data bytes of a .data file (the metadata trailer cut off; storage/object/file-format.ts). */
function dataOf(file: string): Buffer {
  const all = readFileSync(file);
  const metaLength = all.readUInt32BE(all.length - 8);
  return all.subarray(0, all.length - 8 - metaLength);
}

/** The metadata in a .data file's trailer. */
function metadataOf(file: string): Record<string, string> {
  const all = readFileSync(file);
  const metaLength = all.readUInt32BE(all.length - 8);
  return JSON.parse(all.subarray(all.length - 8 - metaLength, all.length - 8).toString('utf8')) as Record<string, string>;
}

describe('object store durability (storage servers as processes)', () => {
  let cluster: ProcessCluster;
  const replicationClient = createBackendClient({ connTimeoutMs: 500, nodeTimeoutMs: 10_000, logger: silentLogger });
  const updateClient = new BackendClient({ connectMs: 500, responseMs: 3000 });

  before(async () => {
    cluster = await startProcessCluster();
    assert.equal((await cluster.call('PUT', `/v1/${ACCOUNT}/box`)).status, 201);
  });
  after(async () => {
    replicationClient.agent.destroy();
    updateClient.close();
    await cluster?.close();
  });

  /** One pass of every replicator on every node, as each node's storage server would run them. */
  async function replicateEverywhere(): Promise<void> {
    for (let i = 0; i < cluster.nodes.length; i++) {
      const node = cluster.localNode(i);
      await new ObjectReplicator({ node, ring: () => cluster.rings.object, client: replicationClient, logger: silentLogger }).runOnce();
      for (const kind of ['container', 'account'] as const) {
        const replicator = new DbReplicator({ kind, node, ring: () => cluster.rings[kind], client: replicationClient, logger: silentLogger });
        try {
          await replicator.runOnce();
        } finally {
          replicator.close();
        }
      }
    }
  }

  /** One pass of the object and container updaters on every node. */
  async function updateEverywhere() {
    const passes = [];
    for (const node of cluster.nodes) {
      const devices = new DeviceSet(node.devices);
      const objects = await new ObjectUpdater({ devices, ring: () => cluster.rings.container, client: updateClient, logger: silentLogger, objectsPerSecond: 0 }).runOnce();
      const containerUpdater = new ContainerUpdater({ devices, ring: () => cluster.rings.account, client: updateClient, logger: silentLogger, containersPerSecond: 0 });
      try {
        passes.push({ objects, containers: await containerUpdater.runOnce() });
      } finally {
        containerUpdater.close();
      }
    }
    return passes;
  }

  /** Every primary holds a .data of exactly `body`, and no other device holds the object. */
  function assertThreeGoodReplicas(name: string, body: Buffer): void {
    const copies = cluster.copies(ACCOUNT, 'box', name);
    const primaries = cluster.primaries(ACCOUNT, 'box', name);
    assert.equal(primaries.length, 3);
    for (const primary of primaries) {
      const copy = copies.find((c) => c.device === primary.path);
      assert.ok(copy?.data, `${name}: no .data on primary ${primary.path}`);
      assert.ok(dataOf(copy.data).equals(body), `${name}: the copy on ${primary.path} is not the object`);
    }
    const elsewhere = copies.filter((c) => !c.primary);
    assert.deepEqual(elsewhere, [], `${name}: copies left on handoffs`);
  }

  test('a node SIGKILLed during writes: every acknowledged write is readable, and after it returns replication restores three replicas', async () => {
    const victim = 1;
    const acknowledged = new Map<string, Buffer>();
    let started = 0;
    let killing: Promise<void> | undefined;
    const writer = async (w: number) => {
      for (let i = 0; i < 10; i++) {
        const name = `kill/${w}-${i}`;
        // a mix of one-chunk and many-chunk objects
        const body = randomBytes(i % 3 === 0 ? 150_000 : 1000 + i);
        if (++started === 16) killing = cluster.kill(victim);
        try {
          const res = await cluster.call('PUT', `/v1/${ACCOUNT}/box/${name}`, { body, headers: { 'content-type': 'application/octet-stream' } });
          if (res.status === 201) acknowledged.set(name, body);
        } catch {
          // the proxy may cut a request it cannot finish; it was never acknowledged
        }
      }
    };
    await Promise.all([0, 1, 2, 3].map(writer));
    await killing;
    assert.ok(acknowledged.size >= 30, `only ${acknowledged.size} of 40 writes succeeded with one node of three down`);

    for (const [name, body] of acknowledged) {
      const res = await cluster.call('GET', `/v1/${ACCOUNT}/box/${name}`);
      assert.equal(res.status, 200, `${name} not readable with the node down`);
      assert.ok(res.body.equals(body), `${name} read back different bytes`);
    }

    await cluster.start(victim);
    await replicateEverywhere();
    for (const [name, body] of acknowledged) assertThreeGoodReplicas(`kill/${name.slice(5)}`, body);
  });

  test('corrupt bytes on disk: a GET never returns them, the auditor quarantines them, the replicator restores a good copy', async () => {
    const bodies = { served: randomBytes(200_000), proxied: randomBytes(70_000), audited: randomBytes(3000) };
    for (const [name, body] of Object.entries(bodies)) {
      assert.equal((await cluster.call('PUT', `/v1/${ACCOUNT}/box/corrupt/${name}`, { body })).status, 201);
    }
    /** Flips one data byte of the object's copy on one primary; the file keeps its size, so only its MD5 tells. */
    const corrupt = (name: string, at: number) => {
      const copy = cluster.copies(ACCOUNT, 'box', `corrupt/${name}`).find((c) => c.primary && c.data)!;
      const bytes = readFileSync(copy.data!);
      bytes[at] = bytes[at]! ^ 0xff;
      writeFileSync(copy.data!, bytes);
      return copy;
    };
    const quarantined = (copy: { device: string; dir: string }) => readdirSync(join(copy.device, 'quarantined', 'objects', copy.dir.split('/').pop()!));

    // Straight from the node holding it: the response is cut before the end, and the copy is quarantined.
    const served = corrupt('served', 123_456);
    const partition = cluster.rings.object.getNodes(ACCOUNT, 'box', 'corrupt/served').partition;
    const direct = await cluster.direct(served.node, 'GET', `/${served.device.split('/').pop()}/${partition}/${ACCOUNT}/box/corrupt/served`).then(
      (reply) => reply,
      () => undefined,
    );
    assert.equal(direct, undefined, 'the corrupt copy was served as a complete response');
    assert.ok(!existsSync(served.data!));
    assert.deepEqual(quarantined(served), [served.data!.split('/').pop()]);

    // Through the proxy, whichever replica it reads: the good bytes, or a cut response — never the corrupt bytes.
    const proxied = corrupt('proxied', 5);
    for (let i = 0; i < 12; i++) {
      const res = await cluster.call('GET', `/v1/${ACCOUNT}/box/corrupt/proxied`).catch(() => undefined);
      if (res) {
        assert.equal(res.status, 200);
        assert.ok(res.body.equals(bodies.proxied), 'the proxy returned bytes that are not the object');
      }
    }

    // The auditor finds what no GET has read yet.
    const audited = corrupt('audited', 10);
    let found = 0;
    for (const node of cluster.nodes) {
      const auditor = new ObjectAuditor({ devices: new DeviceSet(node.devices), logger: silentLogger, filesPerSecond: 0, bytesPerSecond: 0 });
      found += (await auditor.runOnce()).quarantined;
    }
    assert.ok(found >= 1);
    assert.ok(!existsSync(audited.data!));
    assert.deepEqual(quarantined(audited), [audited.data!.split('/').pop()]);
    assert.ok(!existsSync(proxied.data!), 'the corrupt copy read through the proxy is still in place');

    await replicateEverywhere();
    for (const [name, body] of Object.entries(bodies)) assertThreeGoodReplicas(`corrupt/${name}`, body);
  });

  test('a write while a primary is down lands on a handoff; once the primary is back, replication moves it home and off the handoff', async () => {
    const down = 2;
    await cluster.kill(down);
    const body = randomBytes(5000);
    assert.equal((await cluster.call('PUT', `/v1/${ACCOUNT}/box/handoff`, { body })).status, 201);
    const copies = cluster.copies(ACCOUNT, 'box', 'handoff');
    assert.equal(copies.filter((c) => c.primary && c.data).length, 2);
    assert.equal(copies.filter((c) => !c.primary && c.data).length, 1, 'no handoff copy');
    assert.ok(!copies.some((c) => c.node === down));

    await cluster.start(down);
    await replicateEverywhere();
    assertThreeGoodReplicas('handoff', body);
  });

  test('a container server down during a PUT: the listing catches up once the updater runs', async () => {
    const down = 0;
    assert.equal((await cluster.call('PUT', `/v1/${ACCOUNT}/late`)).status, 201);
    await cluster.kill(down);
    assert.equal((await cluster.call('PUT', `/v1/${ACCOUNT}/late/news`, { body: 'extra' })).status, 201);
    await cluster.start(down);
    const { partition, nodes } = cluster.rings.container.getNodes(ACCOUNT, 'late');
    const mine = nodes.find((n) => n.port === cluster.nodes[down]!.port)!;
    const listing = async () => {
      const res = await cluster.direct(down, 'GET', `/${mine.device}/${partition}/${ACCOUNT}/late?format=json`);
      assert.equal(res.status, 200);
      return (JSON.parse(res.text) as Array<{ name: string }>).map((o) => o.name);
    };
    assert.deepEqual(await listing(), []);

    const sent = (await updateEverywhere()).reduce((n, pass) => n + pass.objects.successes, 0);
    assert.ok(sent >= 1);
    assert.deepEqual(await listing(), ['news']);
    for (const node of cluster.nodes) for (const device of node.devices) assert.deepEqual(readdirSync(device).includes('async_pending') ? readdirSync(join(device, 'async_pending')) : [], []);
  });

  test('X-Delete-After: the expirer deletes the object once its time has come', async () => {
    assert.equal((await cluster.call('PUT', `/v1/${ACCOUNT}/short`)).status, 201);
    const put = await cluster.call('PUT', `/v1/${ACCOUNT}/short/lived`, { body: 'soon gone', headers: { 'x-delete-after': '1' } });
    assert.equal(put.status, 201);
    // X-Delete-After rounds down to whole seconds, so the object may already read as gone: its expiry is in its file.
    const stored = cluster.copies(ACCOUNT, 'short', 'lived').find((c) => c.data)!;
    const deleteAt = Number(metadataOf(stored.data!)['x-delete-at']);
    assert.ok(deleteAt > 0);
    while (Date.now() / 1000 <= deleteAt) await sleep(100);

    // The object servers queued it for the expirer through async_pending (this proxy does not name
    // the queue's servers); the updater delivers it, and reports the queue container to its account.
    await updateEverywhere();
    const expirer = new ObjectExpirer({ client: new InternalClient(cluster.handler, 'expirer'), containerRing: () => cluster.rings.container, backend: updateClient, logger: silentLogger, tasksPerSecond: 0 });
    const stats = await expirer.runOnce();
    assert.equal(stats.expired, 1);
    const listing = await cluster.call('GET', `/v1/${ACCOUNT}/short?format=json`);
    assert.deepEqual(JSON.parse(listing.text), []);
    for (const copy of cluster.copies(ACCOUNT, 'short', 'lived').filter((c) => c.primary)) {
      // deleted as of its expiry: the tombstone carries the delete-at time
      assert.deepEqual(readdirSync(copy.dir), [`${Timestamp.fromSeconds(deleteAt).internal}.ts`], `${copy.dir} still holds the object`);
    }
    // The task is done: a second pass finds nothing to do.
    assert.deepEqual(await expirer.runOnce(), { expired: 0, dropped: 0, failures: 0 });
  });

  test('a container made while a node was down reaches it through container and account replication', async () => {
    const down = 1;
    await cluster.kill(down);
    assert.equal((await cluster.call('PUT', `/v1/${ACCOUNT}/fresh`, { headers: { 'x-container-meta-colour': 'green' } })).status, 201);
    assert.equal((await cluster.call('PUT', `/v1/${ACCOUNT}/fresh/one`, { body: '1' })).status, 201);
    await cluster.start(down);
    const { partition, nodes } = cluster.rings.container.getNodes(ACCOUNT, 'fresh');
    const mine = nodes.find((n) => n.port === cluster.nodes[down]!.port)!;
    const containerPath = `/${mine.device}/${partition}/${ACCOUNT}/fresh`;
    assert.equal((await cluster.direct(down, 'HEAD', containerPath)).status, 404);
    // The proxy gave the missing primary's replica to a handoff.
    const primaryDevices = nodes.map((n) => n.device);
    const hash = hashPath(ACCOUNT, 'fresh', undefined, CLUSTER_HASH).hex;
    const dbCopies = () => cluster.nodes.flatMap((node) => node.devices.filter((device) => existsSync(dbPath(device, 'container', partition, hash))).map((device) => device.split('/').pop()!));
    assert.equal(dbCopies().filter((d) => !primaryDevices.includes(d)).length, 1);

    await replicateEverywhere();
    assert.deepEqual(dbCopies().sort(), [...primaryDevices].sort(), 'the container database is not exactly on its primaries');
    const head = await cluster.direct(down, 'HEAD', containerPath);
    assert.equal(head.status, 204);
    assert.equal(head.headers['x-container-meta-colour'], 'green');
    const rows = JSON.parse((await cluster.direct(down, 'GET', `${containerPath}?format=json`)).text) as Array<{ name: string }>;
    assert.deepEqual(rows.map((r) => r.name), ['one']);
    const account = cluster.rings.account.getNodes(ACCOUNT);
    const accountNode = account.nodes.find((n) => n.port === cluster.nodes[down]!.port)!;
    const containers = JSON.parse((await cluster.direct(down, 'GET', `/${accountNode.device}/${account.partition}/${ACCOUNT}?format=json`)).text) as Array<{ name: string }>;
    assert.ok(containers.some((c) => c.name === 'fresh'), 'the account replica on the returned node does not list the container');
  });
});
