// The object replicator (Swift's obj/replicator.py). For every partition on this node's
// devices it makes sure the partition's primaries hold what this node holds:
//
//  - a partition this device is a primary for ("update"): the suffix hashes of each other
//    primary (REPORT /<dev>/<part>) are compared with ours, and the objects of every suffix
//    that differs are pushed (object-push.ts). Each node pushes what it has, so after one pass
//    on every node all primaries agree. A primary whose device answers 507 is replaced by a
//    handoff, as Swift does, so a lost disk does not leave a replica short.
//  - a partition it is not a primary for ("revert": a handoff that took writes while a primary
//    was down, or data left behind by a rebalance): every object is pushed to every primary,
//    and each object all primaries confirm is removed here.
//
// Before hashing, each hash directory is tidied: obsolete files and tombstones older than
// reclaim_age are removed (reclaim.ts). Nothing is cached: a suffix hash is computed from the
// files each time, so a quarantined file changes its suffix's hash at once.
import { join } from 'node:path';
import type { Logger } from 'pino';
import { backendRequest, readSmallBody, type BackendClient } from '../proxy/backend.ts';
import type { Ring, RingDevice } from '../ring/types.ts';
import { OBJECTS_DIR } from '../storage/layout.ts';
import { suffixHashes } from '../storage/replicate.ts';
import { includesDevice, localRingDevices, type LocalNode } from './local-devices.ts';
import { readLocalObject, type LocalObject } from './local-object.ts';
import { DeviceUnavailable, ObjectPusher } from './object-push.ts';
import { DEFAULT_RECLAIM_AGE_SECONDS, reclaimHashDir, removeObjectFiles } from './reclaim.ts';
import { hashDirs, partitions, pruneEmpty } from './walk.ts';

export interface ObjectReplicatorOptions {
  node: LocalNode;
  /** asked at the start of each pass, so a reloaded ring takes effect */
  ring: () => Ring;
  client: BackendClient;
  logger: Logger;
  reclaimAgeSeconds?: number;
  /** seconds since the epoch (tests move it) */
  now?: () => number;
}

export interface ObjectReplicationStats {
  partitions: number;
  /** suffixes found different on a peer and synced */
  suffixesSynced: number;
  /** objects a handoff removed once every primary had them */
  handoffsRemoved: number;
  /** hash directories emptied by reclaiming tombstones and obsolete files */
  reclaimed: number;
  /** partition-to-node syncs that did not complete */
  failures: number;
}

const nodeName = (n: RingDevice) => `${n.ip}:${n.port}/${n.device}`;

export class ObjectReplicator {
  private readonly pusher: ObjectPusher;
  private readonly reclaimAge: number;
  private readonly now: () => number;

  constructor(private readonly opts: ObjectReplicatorOptions) {
    this.pusher = new ObjectPusher(opts.client, opts.logger);
    this.reclaimAge = opts.reclaimAgeSeconds ?? DEFAULT_RECLAIM_AGE_SECONDS;
    this.now = opts.now ?? (() => Date.now() / 1000);
  }

  /** One pass over every partition of every local device. */
  async runOnce(): Promise<ObjectReplicationStats> {
    const stats: ObjectReplicationStats = { partitions: 0, suffixesSynced: 0, handoffsRemoved: 0, reclaimed: 0, failures: 0 };
    const ring = this.opts.ring();
    const partitionCount = 2 ** ring.partPower;
    for (const { dev, path } of localRingDevices(this.opts.node, ring)) {
      const objectsDir = join(path, OBJECTS_DIR);
      for (const partition of await partitions(objectsDir)) {
        if (partition >= partitionCount) continue; // not this ring's: an operator's to sort out
        stats.partitions += 1;
        const primaries = ring.getPartNodes(partition);
        try {
          if (includesDevice(primaries, dev)) await this.update(ring, dev, path, partition, stats);
          else await this.revert(dev, path, partition, primaries, stats);
        } catch (err) {
          stats.failures += 1;
          this.opts.logger.error({ err, device: dev.device, partition }, 'object replication of a partition failed');
        }
      }
    }
    this.opts.logger.info(stats, 'object replication pass done');
    return stats;
  }

  /** Tidies the partition (reclaim.ts); the number of hash directories that went. */
  private async reclaim(objectsDir: string, partition: number): Promise<number> {
    let gone = 0;
    const now = this.now();
    for await (const dir of hashDirs(join(objectsDir, String(partition)), partition)) {
      if (await reclaimHashDir(dir, objectsDir, now, this.reclaimAge)) gone += 1;
    }
    return gone;
  }

  private async update(ring: Ring, dev: RingDevice, devicePath: string, partition: number, stats: ObjectReplicationStats): Promise<void> {
    const objectsDir = join(devicePath, OBJECTS_DIR);
    stats.reclaimed += await this.reclaim(objectsDir, partition);
    const local = await suffixHashes(devicePath, String(partition));
    if (!Object.keys(local).length) {
      await pruneEmpty(join(objectsDir, String(partition)), objectsDir);
      return;
    }
    const peers = ring.getPartNodes(partition).filter((n) => n.id !== dev.id);
    const handoffs = ring.getMoreNodes(partition)[Symbol.iterator]();
    const candidates = [...peers];
    let attemptsLeft = peers.length;
    while (attemptsLeft > 0) {
      let node = candidates.shift();
      if (!node) {
        const next = handoffs.next();
        if (next.done) break;
        node = next.value;
        if (node.id === dev.id) continue;
      }
      attemptsLeft -= 1;
      try {
        const remote = await this.remoteHashes(node, partition);
        if (!remote) {
          stats.failures += 1;
          continue;
        }
        const differing = Object.keys(local).filter((suffix) => local[suffix] !== remote[suffix]);
        if (!differing.length) continue;
        let complete = true;
        for await (const dir of hashDirs(join(objectsDir, String(partition)), partition, differing)) {
          const obj = await readLocalObject(devicePath, dir, this.opts.logger);
          if (obj && !(await this.pusher.push(node, partition, obj))) complete = false;
        }
        stats.suffixesSynced += differing.length;
        if (!complete) stats.failures += 1;
      } catch (err) {
        if (!(err instanceof DeviceUnavailable)) throw err;
        // An unmounted disk: its replica goes to the next handoff instead.
        this.opts.logger.warn({ node: nodeName(node), partition }, 'replication: device unavailable (507); trying a handoff');
        attemptsLeft += 1;
      }
    }
  }

  private async revert(dev: RingDevice, devicePath: string, partition: number, primaries: RingDevice[], stats: ObjectReplicationStats): Promise<void> {
    const objectsDir = join(devicePath, OBJECTS_DIR);
    stats.reclaimed += await this.reclaim(objectsDir, partition);
    const objects: LocalObject[] = [];
    for await (const dir of hashDirs(join(objectsDir, String(partition)), partition)) {
      const obj = await readLocalObject(devicePath, dir, this.opts.logger);
      if (obj) objects.push(obj);
    }
    if (!objects.length) {
      await pruneEmpty(join(objectsDir, String(partition)), objectsDir);
      return;
    }
    const confirmations = new Map<LocalObject, number>();
    for (const node of primaries) {
      if (node.id === dev.id) continue;
      let complete = true;
      try {
        for (const obj of objects) {
          if (await this.pusher.push(node, partition, obj)) confirmations.set(obj, (confirmations.get(obj) ?? 0) + 1);
          else complete = false;
        }
      } catch (err) {
        if (!(err instanceof DeviceUnavailable)) throw err;
        this.opts.logger.warn({ node: nodeName(node), partition }, 'replication: primary device unavailable (507); keeping the handoff copy');
        complete = false;
      }
      if (!complete) stats.failures += 1;
    }
    const needed = primaries.filter((n) => n.id !== dev.id).length;
    for (const obj of objects) {
      if ((confirmations.get(obj) ?? 0) < needed) continue;
      // Only the files we read and sent: a write that landed meanwhile has a new name and stays.
      const names = [obj.data, obj.meta, obj.tombstone].filter((f) => f !== undefined).map((f) => f.name);
      await removeObjectFiles(obj.dir, [...names, ...obj.obsolete], objectsDir);
      stats.handoffsRemoved += 1;
    }
  }

  /** The peer's suffix hashes; undefined when it cannot say; DeviceUnavailable on 507. */
  private async remoteHashes(node: RingDevice, partition: number): Promise<Record<string, string> | undefined> {
    let status: number;
    let body: Buffer;
    try {
      const res = await backendRequest(this.opts.client, node, partition, 'REPORT', '', { headers: { 'user-agent': `object-replicator ${process.pid}` } });
      status = res.status;
      body = await readSmallBody(res, 16 << 20);
    } catch (err) {
      this.opts.logger.warn({ node: nodeName(node), partition, err: (err as Error).message }, 'replication: node unreachable');
      return undefined;
    }
    if (status === 507) throw new DeviceUnavailable(node.device);
    if (status !== 200) {
      this.opts.logger.warn({ node: nodeName(node), partition, status }, 'replication: unexpected answer to REPORT');
      return undefined;
    }
    try {
      return JSON.parse(body.toString('utf8')) as Record<string, string>;
    } catch {
      this.opts.logger.warn({ node: nodeName(node), partition }, 'replication: REPORT answer is not JSON');
      return undefined;
    }
  }
}
