// The account and container replicators (Swift's common/db_replicator.py). For every database
// on this node's devices:
//  - deleted rows older than reclaim_age are dropped, and a database deleted for that long
//    (a container's account told so) is removed;
//  - each other primary is asked to compare ("sync"); one without the database gets an empty
//    replica ("create") and then every row; one that differs gets the rows after the last ROWID
//    it has of ours, per_diff at a time ("merge_items"), up to max_diffs batches a pass. Rows
//    merge newest-wins, and the peer's metadata comes back to us in its answer.
//  - a database on a device that is not one of its primaries (a handoff), or in the wrong
//    partition, is pushed to all its primaries and removed once every one has it and no row
//    arrived meanwhile.
import { dirname, join } from 'node:path';
import type { Logger } from 'pino';
import { nodeName, type BackendClient } from '../proxy/backend.ts';
import type { Ring, RingDevice } from '../ring/types.ts';
import { DbHandleCache } from '../storage/db/handle-cache.ts';
import { ACCOUNTS_DIR, CONTAINERS_DIR, type DbKind } from '../storage/layout.ts';
import { quarantineFile } from '../storage/quarantine.ts';
import { SERVER_TYPE_HEADER } from '../storage/request-path.ts';
import { Timestamp } from '../storage/timestamp.ts';
import { DbReplica, type ReplicationInfo } from './db-replica.ts';
import type { DbSyncAnswer, DbSyncRequest } from './db-sync-protocol.ts';
import { includesDevice, localRingDevices, type LocalNode } from './local-devices.ts';
import { DeviceUnavailable, PeerClient } from './peer-client.ts';
import { DEFAULT_RECLAIM_AGE_SECONDS } from './reclaim.ts';
import { databases, pruneEmpty, unlinkQuietly } from './walk.ts';

export interface DbReplicatorOptions {
  kind: DbKind;
  node: LocalNode;
  ring: () => Ring;
  client: BackendClient;
  logger: Logger;
  reclaimAgeSeconds?: number;
  /** rows per merge_items (Swift's per_diff) */
  perDiff?: number;
  /** merge_items per database per pass (Swift's max_diffs) */
  maxDiffs?: number;
  now?: () => number;
  /** stops a pass in progress at the next database or batch of rows (the storage server is shutting down) */
  signal?: AbortSignal;
}

export interface DbReplicationStats {
  attempted: number;
  /** peers found in step (same rows) */
  inSync: number;
  /** peers sent rows */
  diffs: number;
  /** peers that had no replica and were given one */
  created: number;
  /** databases removed: reclaimed, or handoffs delivered */
  removed: number;
  failures: number;
}

export class DbReplicator {
  private readonly cache = new DbHandleCache();
  private readonly peers: PeerClient;
  private readonly reclaimAge: number;
  private readonly perDiff: number;
  private readonly maxDiffs: number;
  private readonly now: () => number;

  constructor(private readonly opts: DbReplicatorOptions) {
    this.reclaimAge = opts.reclaimAgeSeconds ?? DEFAULT_RECLAIM_AGE_SECONDS;
    this.perDiff = opts.perDiff ?? 1000;
    this.maxDiffs = opts.maxDiffs ?? 100;
    this.now = opts.now ?? (() => Date.now() / 1000);
    this.peers = new PeerClient(opts.client, opts.logger, `${opts.kind}-replicator`);
  }

  private get stopped(): boolean {
    return this.opts.signal?.aborted === true;
  }

  async runOnce(): Promise<DbReplicationStats> {
    const stats: DbReplicationStats = { attempted: 0, inSync: 0, diffs: 0, created: 0, removed: 0, failures: 0 };
    const ring = this.opts.ring();
    const kindDir = this.opts.kind === 'account' ? ACCOUNTS_DIR : CONTAINERS_DIR;
    devices: for (const { dev, path } of localRingDevices(this.opts.node, ring)) {
      const root = join(path, kindDir);
      for await (const { partition, hash, file } of databases(root)) {
        if (this.stopped) break devices;
        stats.attempted += 1;
        try {
          await this.replicateDb(ring, dev, path, root, partition, hash, file, stats);
        } catch (err) {
          stats.failures += 1;
          this.opts.logger.error({ err, db: file }, `${this.opts.kind} replication failed`);
        }
      }
    }
    this.opts.logger.info(stats, `${this.opts.kind} replication pass ${this.stopped ? 'stopped' : 'done'}`);
    return stats;
  }

  close(): void {
    this.cache.closeAll();
  }

  private async replicateDb(ring: Ring, dev: RingDevice, devicePath: string, root: string, partition: number, hash: string, file: string, stats: DbReplicationStats): Promise<void> {
    let replica: DbReplica | undefined;
    let info: ReplicationInfo;
    try {
      replica = DbReplica.open(this.cache, this.opts.kind, file);
      if (!replica) return;
      info = replica.info();
    } catch (err) {
      // Not a database we can read (Swift quarantines on "no such table"): a good replica will come back.
      if (!/SQLITE_(CORRUPT|NOTADB)|no such table/.test(String((err as Error).message) + String((err as { code?: string }).code))) throw err;
      const moved = await quarantineFile(devicePath, this.opts.kind === 'account' ? 'accounts' : 'containers', hash, file).catch(() => undefined);
      this.opts.logger.error({ db: file, quarantined: moved, err: (err as Error).message }, 'quarantined an unreadable database');
      return;
    }
    const cutoff = Timestamp.fromSeconds(Math.max(0, this.now() - this.reclaimAge));
    replica.reclaimRows(cutoff);
    if (replica.isReclaimable(cutoff)) {
      await this.remove(file, root);
      stats.removed += 1;
      return;
    }
    const { partition: home, nodes } = ring.getNodes(info.account, info.container);
    const shouldBeHere = home === partition && includesDevice(nodes, dev);
    // Each primary starts with the one after it, so three out-of-step replicas do not all talk to the same one first (Swift's footnote [1]).
    const mine = nodes.findIndex((n) => n.id === dev.id);
    const peers = shouldBeHere ? [...nodes.slice(mine + 1), ...nodes.slice(0, mine)] : [...nodes];
    const handoffs = ring.getMoreNodes(home)[Symbol.iterator]();
    const results: boolean[] = [];
    for (let i = 0; i < peers.length && !this.stopped; i++) {
      const node = peers[i]!;
      try {
        results.push(await this.replicateTo(node, home, hash, replica, info, stats));
      } catch (err) {
        if (!(err instanceof DeviceUnavailable)) throw err;
        results.push(false);
        this.opts.logger.warn({ node: nodeName(node), db: file }, `${this.opts.kind} replication: device unavailable (507)`);
        // A primary's replica goes to a handoff instead; a handoff's own copy simply stays.
        if (shouldBeHere) {
          for (let next = handoffs.next(); !next.done; next = handoffs.next()) {
            if (next.value.id === dev.id || peers.some((p) => p.id === next.value.id)) continue;
            peers.push(next.value);
            break;
          }
        }
      }
    }
    stats.failures += results.filter((ok) => !ok).length;
    // A handoff goes once every primary has it (all were asked: not stopped halfway), and only
    // if nothing was written here meanwhile; else the next pass sends that too.
    if (!shouldBeHere && !this.stopped && results.length > 0 && results.every(Boolean)) {
      if (replica.info().max_row === info.max_row) {
        await this.remove(file, root);
        stats.removed += 1;
      }
    }
  }

  private async remove(file: string, root: string): Promise<void> {
    await unlinkQuietly(file);
    await pruneEmpty(dirname(file), root);
  }

  /** Brings one peer up to this replica; true when it has every row we have. */
  private async replicateTo(node: RingDevice, partition: number, hash: string, replica: DbReplica, info: ReplicationInfo, stats: DbReplicationStats): Promise<boolean> {
    let peer = await this.call(node, partition, hash, { op: 'sync', info });
    if (peer === 404) {
      peer = await this.call(node, partition, hash, { op: 'create', info });
      if (typeof peer !== 'number') stats.created += 1;
    }
    if (typeof peer === 'number') return false;
    replica.mergeMetadata(peer.metadata);
    const sent = replica.syncPoint(peer.id, 'outgoing');
    if (Math.max(peer.point, sent) >= info.max_row) {
      stats.inSync += 1;
      return true;
    }
    if (peer.hash === info.hash) {
      replica.setSyncPoint(peer.id, info.max_row, 'outgoing');
      stats.inSync += 1;
      return true;
    }
    stats.diffs += 1;
    let point = Math.max(peer.point, sent);
    for (let batch = 0; batch < this.maxDiffs; batch++) {
      if (this.stopped) break;
      const rows = replica.rowsSince(point, this.perDiff);
      if (!rows.length) {
        replica.setSyncPoint(peer.id, point, 'outgoing');
        return true;
      }
      const done = await this.call(node, partition, hash, { op: 'merge_items', items: rows, source_id: info.id });
      if (done !== 202) return false;
      point = rows[rows.length - 1]!.ROWID;
    }
    replica.setSyncPoint(peer.id, point, 'outgoing');
    // Too far behind for one pass: the rest next time.
    return replica.rowsSince(point, 1).length === 0;
  }

  /** One REPORT; the peer's answer for sync/create, else the status (0: no answer). DeviceUnavailable on 507. */
  private async call(node: RingDevice, partition: number, hash: string, request: DbSyncRequest): Promise<DbSyncAnswer | number> {
    const res = await this.peers.request(node, partition, 'REPORT', `/${hash}`, {
      headers: { [SERVER_TYPE_HEADER]: this.opts.kind, 'content-type': 'application/json' },
      body: Buffer.from(JSON.stringify(request)),
      maxBody: 16 << 20,
    });
    if (!res) return 0;
    if (res.status !== 200 || request.op === 'merge_items') {
      if (res.status >= 300 && res.status !== 404) this.opts.logger.warn({ node: nodeName(node), status: res.status, op: request.op, body: res.body.toString('utf8').slice(0, 200) }, `${this.opts.kind} replication: refused`);
      return res.status;
    }
    try {
      return JSON.parse(res.body.toString('utf8')) as DbSyncAnswer;
    } catch {
      return 0;
    }
  }
}
