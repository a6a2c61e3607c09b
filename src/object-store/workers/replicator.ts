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
// reclaim_age are removed (reclaim.ts). Nothing is cached between passes: a suffix hash is
// computed from the files each time, so a quarantined file changes its suffix's hash at once.
// Within a partition, the objects of a suffix are read once however many peers need them.
import { join } from 'node:path';
import type { Logger } from 'pino';
import { nodeName, type BackendClient } from '../proxy/backend.ts';
import type { Ring, RingDevice } from '../ring/types.ts';
import { OBJECTS_DIR } from '../storage/layout.ts';
import { suffixHashes } from '../storage/replicate.ts';
import { includesDevice, localRingDevices, type LocalNode } from './local-devices.ts';
import { readLocalObject, type LocalObject } from './local-object.ts';
import { ObjectPusher } from './object-push.ts';
import { DeviceUnavailable, PeerClient } from './peer-client.ts';
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
  /** stops a pass in progress at the next object (the storage server is shutting down) */
  signal?: AbortSignal;
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

/** One partition of one local device, as a pass works on it. */
interface PartitionJob {
  dev: RingDevice;
  devicePath: string;
  objectsDir: string;
  partition: number;
  /** <objectsDir>/<partition> */
  dir: string;
  primaries: RingDevice[];
}

export class ObjectReplicator {
  private readonly peers: PeerClient;
  private readonly pusher: ObjectPusher;
  private readonly reclaimAge: number;
  private readonly now: () => number;

  constructor(private readonly opts: ObjectReplicatorOptions) {
    this.peers = new PeerClient(opts.client, opts.logger, 'object-replicator');
    this.pusher = new ObjectPusher(this.peers);
    this.reclaimAge = opts.reclaimAgeSeconds ?? DEFAULT_RECLAIM_AGE_SECONDS;
    this.now = opts.now ?? (() => Date.now() / 1000);
  }

  private get stopped(): boolean {
    return this.opts.signal?.aborted === true;
  }

  /** One pass over every partition of every local device. */
  async runOnce(): Promise<ObjectReplicationStats> {
    const stats: ObjectReplicationStats = { partitions: 0, suffixesSynced: 0, handoffsRemoved: 0, reclaimed: 0, failures: 0 };
    const ring = this.opts.ring();
    const partitionCount = 2 ** ring.partPower;
    devices: for (const { dev, path } of localRingDevices(this.opts.node, ring)) {
      const objectsDir = join(path, OBJECTS_DIR);
      for (const partition of await partitions(objectsDir)) {
        if (this.stopped) break devices;
        if (partition >= partitionCount) continue; // not this ring's: an operator's to sort out
        stats.partitions += 1;
        const job: PartitionJob = { dev, devicePath: path, objectsDir, partition, dir: join(objectsDir, String(partition)), primaries: ring.getPartNodes(partition) };
        try {
          if (includesDevice(job.primaries, dev)) await this.update(ring, job, stats);
          else await this.revert(job, stats);
        } catch (err) {
          stats.failures += 1;
          this.opts.logger.error({ err, device: dev.device, partition }, 'object replication of a partition failed');
        }
      }
    }
    this.opts.logger.info(stats, `object replication pass ${this.stopped ? 'stopped' : 'done'}`);
    return stats;
  }

  /** Tidies every hash directory of the partition (reclaim.ts), so only what is left is hashed. */
  private async reclaim(job: PartitionJob, stats: ObjectReplicationStats): Promise<void> {
    const now = this.now();
    for await (const dir of hashDirs(job.dir, job.partition)) {
      if (this.stopped) return;
      if (await reclaimHashDir(dir, job.objectsDir, now, this.reclaimAge)) stats.reclaimed += 1;
    }
  }

  private async update(ring: Ring, job: PartitionJob, stats: ObjectReplicationStats): Promise<void> {
    await this.reclaim(job, stats);
    if (this.stopped) return;
    const local = await suffixHashes(job.devicePath, String(job.partition));
    if (!Object.keys(local).length) {
      await pruneEmpty(job.dir, job.objectsDir);
      return;
    }
    // The objects of a suffix are read once, then sent to every peer that differs there.
    const bySuffix = new Map<string, LocalObject[]>();
    const objectsOf = async (suffixes: string[]): Promise<LocalObject[] | undefined> => {
      const unread = suffixes.filter((suffix) => !bySuffix.has(suffix));
      for (const suffix of unread) bySuffix.set(suffix, []);
      for await (const dir of hashDirs(job.dir, job.partition, unread)) {
        if (this.stopped) return undefined;
        const obj = await readLocalObject(job.devicePath, dir, this.opts.logger);
        if (obj) bySuffix.get(dir.suffix)!.push(obj);
      }
      return suffixes.flatMap((suffix) => bySuffix.get(suffix)!);
    };
    const candidates = job.primaries.filter((n) => n.id !== job.dev.id);
    const handoffs = ring.getMoreNodes(job.partition)[Symbol.iterator]();
    let attemptsLeft = candidates.length;
    while (attemptsLeft > 0 && !this.stopped) {
      let node = candidates.shift();
      if (!node) {
        const next = handoffs.next();
        if (next.done) break;
        node = next.value;
        if (node.id === job.dev.id) continue;
      }
      attemptsLeft -= 1;
      try {
        const remote = await this.remoteHashes(node, job.partition);
        if (!remote) {
          stats.failures += 1;
          continue;
        }
        const differing = Object.keys(local).filter((suffix) => local[suffix] !== remote[suffix]);
        if (!differing.length) continue;
        const objects = await objectsOf(differing);
        if (!objects) return;
        let complete = true;
        for (const obj of objects) {
          if (this.stopped) return;
          if (!(await this.pusher.push(node, job.partition, obj))) complete = false;
        }
        stats.suffixesSynced += differing.length;
        if (!complete) stats.failures += 1;
      } catch (err) {
        if (!(err instanceof DeviceUnavailable)) throw err;
        // An unmounted disk: its replica goes to the next handoff instead.
        this.opts.logger.warn({ node: nodeName(node), partition: job.partition }, 'replication: device unavailable (507); trying a handoff');
        attemptsLeft += 1;
      }
    }
  }

  private async revert(job: PartitionJob, stats: ObjectReplicationStats): Promise<void> {
    // Tidied and read in one walk: everything here goes to every primary.
    const objects: LocalObject[] = [];
    const now = this.now();
    for await (const dir of hashDirs(job.dir, job.partition)) {
      if (this.stopped) return;
      if (await reclaimHashDir(dir, job.objectsDir, now, this.reclaimAge)) {
        stats.reclaimed += 1;
        continue;
      }
      const obj = await readLocalObject(job.devicePath, dir, this.opts.logger);
      if (obj) objects.push(obj);
    }
    if (!objects.length) {
      await pruneEmpty(job.dir, job.objectsDir);
      return;
    }
    const others = job.primaries.filter((n) => n.id !== job.dev.id);
    const confirmations = new Map<LocalObject, number>();
    for (const node of others) {
      let complete = true;
      try {
        for (const obj of objects) {
          // Stopped halfway: nothing is removed, the next pass sends it all again.
          if (this.stopped) return;
          if (await this.pusher.push(node, job.partition, obj)) confirmations.set(obj, (confirmations.get(obj) ?? 0) + 1);
          else complete = false;
        }
      } catch (err) {
        if (!(err instanceof DeviceUnavailable)) throw err;
        this.opts.logger.warn({ node: nodeName(node), partition: job.partition }, 'replication: primary device unavailable (507); keeping the handoff copy');
        complete = false;
      }
      if (!complete) stats.failures += 1;
    }
    for (const obj of objects) {
      if ((confirmations.get(obj) ?? 0) < others.length) continue;
      // Only the files we read and sent: a write that landed meanwhile has a new name and stays.
      const names = [obj.data, obj.meta, obj.tombstone].filter((f) => f !== undefined).map((f) => f.name);
      await removeObjectFiles(obj.dir, [...names, ...obj.obsolete], job.objectsDir);
      stats.handoffsRemoved += 1;
    }
  }

  /** The peer's suffix hashes; undefined when it cannot say; DeviceUnavailable on 507. */
  private async remoteHashes(node: RingDevice, partition: number): Promise<Record<string, string> | undefined> {
    const res = await this.peers.request(node, partition, 'REPORT', '', { maxBody: 16 << 20 });
    if (!res) return undefined;
    if (res.status !== 200) {
      this.opts.logger.warn({ node: nodeName(node), partition, status: res.status }, 'replication: unexpected answer to REPORT');
      return undefined;
    }
    try {
      return JSON.parse(res.body.toString('utf8')) as Record<string, string>;
    } catch {
      this.opts.logger.warn({ node: nodeName(node), partition }, 'replication: REPORT answer is not JSON');
      return undefined;
    }
  }
}
