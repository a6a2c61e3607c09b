// The test object store with three storage servers, as durability suites use it: every object
// on all three, reads and writes going on while one server is down, and the server back on
// its port afterwards.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { ObjectStoreClient } from '../clients/object-store.ts';
import { startCloud, type TestCloud } from './cloud.ts';

let cloud: TestCloud;
before(async () => {
  cloud = await startCloud('sqlite://', {}, {}, { objectStore: { replicas: 3 } });
});
after(() => cloud?.stop());

/** Object data files (.data) under a directory tree. */
function dataFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.data')).map((f) => join(dir, f));
}

test('three storage servers each hold a replica; one down, the object store still reads and writes', async () => {
  const cluster = cloud.objectStore!;
  assert.equal(cluster.nodes.length, 3);
  const store = new ObjectStoreClient(cloud.objectStoreAccountUrl(cloud.identity.adminProjectId), cloud.identity.adminToken);
  await store.putContainer('durable');
  await store.putObject('durable', 'a.txt', 'first');
  for (const node of cluster.nodes) assert.equal(dataFiles(node.device).length, 1, `a replica on ${node.device}`);

  const down = cluster.nodes[1]!;
  const port = down.port;
  await down.stop();
  assert.equal(down.running, false);
  assert.equal((await store.download('durable', 'a.txt')).toString(), 'first');
  await store.putObject('durable', 'b.txt', 'written while a server was down');
  assert.equal((await store.download('durable', 'b.txt')).toString(), 'written while a server was down');

  await down.start();
  assert.equal(down.port, port, 'back on the port the rings name');
  // Listings are eventually consistent here, as in Swift: with three devices there is no
  // handoff, so the container update the stopped object server would have sent is not sent,
  // and the container replica it was meant for learns of b.txt only from the replicator
  // (durability.test.ts shows that). Objects are readable at once.
  assert.equal((await store.download('durable', 'a.txt')).toString(), 'first');
  assert.equal((await store.download('durable', 'b.txt')).toString(), 'written while a server was down');
});
