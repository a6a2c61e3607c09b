// The storage node's worker schedule: close() stops a pass in progress at its next object, so
// a storage server shutting down does not wait out a pass held to its rate.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import pino from 'pino';
import { hashPath } from '../ring/hash.ts';
import { objectHashDir } from '../storage/layout.ts';
import { clock, HASH_PREFIX, HASH_SUFFIX, startNode, type TestNode } from '../storage/test-support.ts';
import { NodeWorkers, type NodeWorkerSettings } from './node-workers.ts';

const secrets = { prefix: HASH_PREFIX, suffix: HASH_SUFFIX };

const settings: NodeWorkerSettings = {
  intervals: { replicate: 0, audit: 0, update: 0, expire: 0 },
  reclaimAgeSeconds: 604_800,
  auditorFilesPerSecond: 0,
  auditorBytesPerSecond: 0,
  updaterObjectsPerSecond: 0,
  expirerProcesses: 0,
  expirerProcess: 0,
  nodeTimeoutMs: 5000,
  connTimeoutMs: 500,
};

describe('node workers', () => {
  let node: TestNode;
  const t = clock();
  before(async () => {
    node = await startNode(['sda']);
  });
  after(() => node.close());

  test('close() stops an audit pass in progress: the objects it had not reached are left for the next pass', async () => {
    // Three objects, each damaged, so every one the auditor gets through is quarantined (and logged).
    const files: string[] = [];
    for (const name of ['o1', 'o2', 'o3']) {
      assert.equal((await node.request('PUT', `/sda/1/AUTH_a/c/${name}`, { headers: { 'x-timestamp': t.next(), 'content-type': 'text/plain' }, body: 'x'.repeat(1000) })).status, 201);
      const dir = objectHashDir(node.devicePath('sda'), 1, hashPath('AUTH_a', 'c', name, secrets).hex);
      const file = join(dir, readdirSync(dir).find((f) => f.endsWith('.data'))!);
      const bytes = readFileSync(file);
      bytes[0] = 0x79;
      writeFileSync(file, bytes);
      files.push(file);
    }
    let firstQuarantined!: () => void;
    const quarantined = new Promise<void>((resolve) => (firstQuarantined = resolve));
    const logger = pino({ level: 'error' }, { write: (line: string) => (JSON.parse(line) as { msg: string }).msg.includes('quarantined') && firstQuarantined() });
    // One byte a second: the first object goes at once (a second of catch-up), the next would wait 1000 s for its bytes.
    const workers = new NodeWorkers({
      devices: [node.devicePath('sda')],
      hash: secrets,
      port: () => node.port,
      logger,
      settings: { ...settings, intervals: { ...settings.intervals, audit: 0.001 }, auditorBytesPerSecond: 1 },
    });
    workers.start();
    await quarantined;
    await workers.close();

    const left = files.filter((file) => existsSync(file));
    assert.equal(left.length, 2, 'the pass stopped after the first object');
    assert.equal(readdirSync(join(node.devicePath('sda'), 'quarantined', 'objects')).length, 1);
  });
});
