// For the workers' tests only: storage servers in this process (storage/test-support.ts), one
// device each, and 3-replica rings over them, so a test can put files on exact nodes with
// backend requests and run a worker as one node would.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '../../core/log/logger.ts';
import { createBackendClient, type BackendClient } from '../proxy/backend.ts';
import { ensureRings } from '../ring/all-in-one.ts';
import { loadRings, type Rings } from '../ring/file.ts';
import type { RingDevice } from '../ring/types.ts';
import { DeviceSet } from '../storage/devices.ts';
import { HASH_PREFIX, HASH_SUFFIX, startNode, type TestNode } from '../storage/test-support.ts';
import type { LocalNode } from './local-devices.ts';

export interface WorkerTestCluster {
  nodes: TestNode[];
  rings: Rings;
  client: BackendClient;
  /** the device name of node i (one each) */
  device(i: number): string;
  localNode(i: number): LocalNode;
  /** the node index a ring device belongs to */
  nodeOf(dev: RingDevice): number;
  close(): Promise<void>;
}

export async function startWorkerCluster(count = 3, partPower = 2): Promise<WorkerTestCluster> {
  const nodes: TestNode[] = [];
  for (let i = 0; i < count; i++) nodes.push(await startNode([`d${i}`]));
  const ringDir = mkdtempSync(join(tmpdir(), 'tenrec-worker-rings-'));
  ensureRings(ringDir, nodes.map((node, i) => ({ ip: '127.0.0.1', port: node.port, device: `d${i}`, zone: i + 1 })), 3, partPower);
  const rings = loadRings(ringDir, { prefix: HASH_PREFIX, suffix: HASH_SUFFIX });
  const client = createBackendClient({ connTimeoutMs: 500, nodeTimeoutMs: 5000, logger: silentLogger });
  return {
    nodes,
    rings,
    client,
    device: (i) => `d${i}`,
    localNode: (i) => ({ devices: new DeviceSet([nodes[i]!.devicePath(`d${i}`)]), port: nodes[i]!.port, ips: new Set(['127.0.0.1']) }),
    nodeOf: (dev) => nodes.findIndex((n) => n.port === dev.port),
    async close() {
      client.agent.destroy();
      for (const node of nodes) await node.close();
      rmSync(ringDir, { recursive: true, force: true });
    },
  };
}
