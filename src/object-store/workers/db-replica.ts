// One replica of an account or container database as replication sees it (Swift's
// DatabaseBroker replication methods): what a peer needs to compare with it (ids, the row
// hash, the last ROWID, the stats timestamps, the metadata), the rows changed after a ROWID,
// merging a peer's rows and stats in (newest wins, so merging twice changes nothing), and
// how far each peer has been synced, kept in incoming_sync / outgoing_sync tables beside
// the data as Swift keeps them (made on first use, so databases made before need nothing).
import type Database from 'better-sqlite3';
import { AccountDb } from '../storage/account/account-db.ts';
import { ContainerDb } from '../storage/container/container-db.ts';
import { parseDbMetadata, type DbMetadata } from '../storage/db/db-metadata.ts';
import type { DbHandleCache } from '../storage/db/handle-cache.ts';
import type { DbKind } from '../storage/layout.ts';
import { Timestamp } from '../storage/timestamp.ts';

/** What two replicas exchange to compare themselves (Swift's replication info). */
export interface ReplicationInfo {
  account: string;
  /** containers only */
  container?: string;
  /** this replica's id: sync points are kept per peer id */
  id: string;
  /** XOR of every row's hash (chexor): equal on replicas with the same rows */
  hash: string;
  /** the last ROWID, -1 without rows */
  max_row: number;
  created_at: string;
  put_timestamp: string;
  delete_timestamp: string;
  metadata: DbMetadata;
}

/** A row as sent between replicas: the table's columns plus its ROWID. */
export type ReplicaRow = Record<string, string | number> & { ROWID: number; name: string };

export class DbReplica {
  private readonly wrapper: ContainerDb | AccountDb;

  constructor(
    private readonly cache: DbHandleCache,
    readonly kind: DbKind,
    readonly path: string,
    names: { account: string; container?: string },
  ) {
    this.wrapper = kind === 'container' ? new ContainerDb(cache, path, names.account, names.container ?? '') : new AccountDb(cache, path, names.account);
  }

  /** Opens an existing database, reading its names from it; undefined when there is no file. */
  static open(cache: DbHandleCache, kind: DbKind, path: string): DbReplica | undefined {
    const db = cache.get(path);
    if (!db) return undefined;
    const names = db.prepare(kind === 'container' ? 'SELECT account, container FROM container_stat' : 'SELECT account FROM account_stat').get() as { account: string; container?: string };
    return new DbReplica(cache, kind, path, names);
  }

  /** Makes a new, empty replica of a peer's database (its own new id), with the peer's stats and metadata. */
  static create(cache: DbHandleCache, kind: DbKind, path: string, peer: ReplicationInfo): DbReplica {
    const replica = new DbReplica(cache, kind, path, peer);
    replica.wrapper.initialize(Timestamp.tryParse(peer.put_timestamp) ?? Timestamp.zero());
    replica.mergeStats(peer);
    return replica;
  }

  private get db(): Database.Database {
    const db = this.cache.get(this.path);
    if (!db) throw new Error(`no database at ${this.path}`);
    return db;
  }

  private get rowTable(): 'object' | 'container' {
    return this.kind === 'container' ? 'object' : 'container';
  }

  private get statTable(): 'container_stat' | 'account_stat' {
    return this.kind === 'container' ? 'container_stat' : 'account_stat';
  }

  info(): ReplicationInfo {
    const stat = this.db.prepare(`SELECT * FROM ${this.statTable}`).get() as Record<string, string>;
    const { max_row } = this.db.prepare(`SELECT COALESCE(MAX(ROWID), -1) AS max_row FROM ${this.rowTable}`).get() as { max_row: number };
    return {
      account: stat.account!,
      ...(this.kind === 'container' ? { container: stat.container! } : {}),
      id: stat.id!,
      hash: stat.hash!,
      max_row,
      created_at: stat.created_at!,
      put_timestamp: stat.put_timestamp!,
      delete_timestamp: stat.delete_timestamp!,
      metadata: parseDbMetadata(stat.metadata),
    };
  }

  /** Deleted (and, for a container, empty): the state that may be reclaimed once old enough. */
  isDeleted(): boolean {
    return this.wrapper.isDeleted();
  }

  /** Rows `count` and under, after ROWID `point`, in change order. */
  rowsSince(point: number, count: number): ReplicaRow[] {
    return this.wrapper.rowsSince(point, count) as unknown as ReplicaRow[];
  }

  /**
   * A peer's rows, each merged where it is newer (containers: field group by field group, as
   * object updates; accounts: the newest put/delete times, the reporter's counts). With
   * `sourceId`, records that everything up to the batch's last ROWID of that peer is here.
   */
  mergeRows(rows: readonly ReplicaRow[], sourceId?: string): void {
    this.db.transaction(() => {
      for (const row of rows) {
        if (this.wrapper instanceof ContainerDb) {
          this.wrapper.putObject({
            name: String(row.name),
            timestamp: Timestamp.parse(String(row.created_at)),
            size: Number(row.size),
            contentType: String(row.content_type),
            etag: String(row.etag),
            deleted: Number(row.deleted) === 1,
            ctypeTimestamp: Timestamp.tryParse(String(row.ctype_timestamp)),
            metaTimestamp: Timestamp.tryParse(String(row.meta_timestamp)),
          });
        } else if (!this.sameAccountRow(row)) {
          this.wrapper.putContainer({
            name: String(row.name),
            putTimestamp: Timestamp.parse(String(row.put_timestamp)),
            deleteTimestamp: Timestamp.parse(String(row.delete_timestamp)),
            objectCount: Number(row.object_count),
            bytesUsed: Number(row.bytes_used),
          });
        }
      }
      if (sourceId !== undefined && rows.length) this.setSyncPoint(sourceId, rows[rows.length - 1]!.ROWID, 'incoming');
    })();
  }

  /** An account row that would change nothing (re-inserting it would only send it back and forth). */
  private sameAccountRow(row: ReplicaRow): boolean {
    const existing = this.db.prepare('SELECT put_timestamp, delete_timestamp, object_count, bytes_used FROM container WHERE name = ?').get(String(row.name)) as
      | Record<string, string | number>
      | undefined;
    if (!existing) return false;
    return (
      String(row.put_timestamp) <= String(existing.put_timestamp) &&
      String(row.delete_timestamp) <= String(existing.delete_timestamp) &&
      Number(row.object_count) === Number(existing.object_count) &&
      Number(row.bytes_used) === Number(existing.bytes_used)
    );
  }

  /**
   * A peer's stats (Swift's merge_timestamps and update_metadata): the earliest creation, the
   * latest put and delete, each metadata key at its newest; the status change time moves when
   * the merge changes whether it is deleted.
   */
  mergeStats(peer: Pick<ReplicationInfo, 'created_at' | 'put_timestamp' | 'delete_timestamp' | 'metadata'>): void {
    this.db.transaction(() => {
      const wasDeleted = this.wrapper.isDeleted();
      this.db
        .prepare(`UPDATE ${this.statTable} SET created_at = MIN(?, created_at), put_timestamp = MAX(?, put_timestamp), delete_timestamp = MAX(?, delete_timestamp)`)
        .run(peer.created_at, peer.put_timestamp, peer.delete_timestamp);
      if (wasDeleted !== this.wrapper.isDeleted()) this.wrapper.updateStatusChangedAt(Timestamp.now());
      this.mergeMetadata(peer.metadata);
    })();
  }

  mergeMetadata(metadata: DbMetadata): void {
    if (Object.keys(metadata).length) this.wrapper.updateMetadata(metadata, false);
  }

  private ensureSyncTables(): void {
    for (const table of ['incoming_sync', 'outgoing_sync']) {
      this.db.exec(`CREATE TABLE IF NOT EXISTS ${table} (remote_id TEXT PRIMARY KEY, sync_point INTEGER NOT NULL, updated_at TEXT NOT NULL DEFAULT '0')`);
    }
  }

  /** The last ROWID of the peer with `remoteId` merged here (incoming) or sent to it (outgoing); -1 when none. */
  syncPoint(remoteId: string, direction: 'incoming' | 'outgoing'): number {
    this.ensureSyncTables();
    const row = this.db.prepare(`SELECT sync_point FROM ${direction}_sync WHERE remote_id = ?`).get(remoteId) as { sync_point: number } | undefined;
    return row?.sync_point ?? -1;
  }

  setSyncPoint(remoteId: string, point: number, direction: 'incoming' | 'outgoing'): void {
    this.ensureSyncTables();
    this.db
      .prepare(
        `INSERT INTO ${direction}_sync (remote_id, sync_point, updated_at) VALUES (?, ?, ?)
         ON CONFLICT(remote_id) DO UPDATE SET sync_point = MAX(sync_point, excluded.sync_point), updated_at = excluded.updated_at`,
      )
      .run(remoteId, point, Timestamp.now().internal);
  }

  /**
   * Removes deleted rows older than `cutoff` (Swift's reclaim): every replica has had
   * reclaim_age to learn of them. Returns how many went.
   */
  reclaimRows(cutoff: Timestamp): number {
    const column = this.kind === 'container' ? 'created_at' : 'delete_timestamp';
    return this.db.prepare(`DELETE FROM ${this.rowTable} WHERE deleted = 1 AND ${column} < ?`).run(cutoff.internal).changes;
  }

  /**
   * Whether the whole database may go: deleted for longer than `cutoff`, no rows left alive,
   * and (containers) its account has heard the final state.
   */
  isReclaimable(cutoff: Timestamp): boolean {
    const info = this.info();
    if (!(info.delete_timestamp > info.put_timestamp && info.delete_timestamp < cutoff.internal)) return false;
    if (!this.isDeleted()) return false;
    if (this.wrapper instanceof ContainerDb) {
      const stat = this.wrapper.info();
      return stat.reported_put_timestamp === stat.put_timestamp && stat.reported_delete_timestamp === stat.delete_timestamp && stat.reported_object_count === stat.object_count;
    }
    return this.wrapper.info().container_count === 0;
  }
}
