// One container's database (Swift's ContainerBroker): a row per object name, live or
// deleted, and the container's stats, kept by triggers. Rows are never updated in place,
// only deleted and re-inserted, so ROWID order is change order: the replicator sends the
// rows changed since the last ROWID a peer has.
import type Database from 'better-sqlite3';
import { EMPTY_HASH } from '../db/chexor.ts';
import { listWithDelimiter, pageSql, type ListingQuery, type Subdir } from '../db/listing.ts';
import { StatDb } from '../db/stat-db.ts';
import { splitSwiftBytes } from '../swift-bytes.ts';
import { Timestamp } from '../timestamp.ts';

const SCHEMA = `
  CREATE TABLE object (
    ROWID INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    created_at TEXT NOT NULL,
    size INTEGER NOT NULL,
    content_type TEXT NOT NULL,
    etag TEXT NOT NULL,
    deleted INTEGER NOT NULL DEFAULT 0,
    ctype_timestamp TEXT NOT NULL,
    meta_timestamp TEXT NOT NULL
  );
  CREATE UNIQUE INDEX ix_object_name ON object (name);
  CREATE INDEX ix_object_deleted_name ON object (deleted, name);

  CREATE TABLE container_stat (
    account TEXT NOT NULL,
    container TEXT NOT NULL,
    created_at TEXT NOT NULL,
    put_timestamp TEXT NOT NULL DEFAULT '0',
    delete_timestamp TEXT NOT NULL DEFAULT '0',
    status TEXT NOT NULL DEFAULT '',
    status_changed_at TEXT NOT NULL DEFAULT '0',
    object_count INTEGER NOT NULL DEFAULT 0,
    bytes_used INTEGER NOT NULL DEFAULT 0,
    reported_put_timestamp TEXT NOT NULL DEFAULT '0',
    reported_delete_timestamp TEXT NOT NULL DEFAULT '0',
    reported_object_count INTEGER NOT NULL DEFAULT 0,
    reported_bytes_used INTEGER NOT NULL DEFAULT 0,
    hash TEXT NOT NULL DEFAULT '${EMPTY_HASH}',
    id TEXT NOT NULL,
    metadata TEXT NOT NULL DEFAULT '',
    account_nodes TEXT NOT NULL DEFAULT ''
  );

  CREATE TRIGGER object_insert AFTER INSERT ON object BEGIN
    UPDATE container_stat SET
      object_count = object_count + (1 - new.deleted),
      bytes_used = bytes_used + new.size,
      hash = chexor(hash, new.name, new.created_at || '-' || new.ctype_timestamp || '-' || new.meta_timestamp);
  END;
  CREATE TRIGGER object_delete AFTER DELETE ON object BEGIN
    UPDATE container_stat SET
      object_count = object_count - (1 - old.deleted),
      bytes_used = bytes_used - old.size,
      hash = chexor(hash, old.name, old.created_at || '-' || old.ctype_timestamp || '-' || old.meta_timestamp);
  END;
  CREATE TRIGGER object_update BEFORE UPDATE ON object BEGIN
    SELECT RAISE(FAIL, 'UPDATE not allowed; DELETE and INSERT');
  END;
`;

export interface ContainerInfo {
  account: string;
  container: string;
  created_at: string;
  put_timestamp: string;
  delete_timestamp: string;
  status: string;
  status_changed_at: string;
  object_count: number;
  bytes_used: number;
  reported_put_timestamp: string;
  reported_delete_timestamp: string;
  reported_object_count: number;
  reported_bytes_used: number;
  hash: string;
  id: string;
  /** JSON of AccountNodes: where the container last heard its account lives */
  account_nodes: string;
}

/** An object row as stored. */
export interface ObjectRow {
  name: string;
  /** the object's data timestamp */
  created_at: string;
  size: number;
  content_type: string;
  etag: string;
  deleted: number;
  ctype_timestamp: string;
  meta_timestamp: string;
}

/** An object update: what an object server sends (PUT or DELETE of /d/p/a/c/o). */
export interface ObjectRecord {
  name: string;
  timestamp: Timestamp;
  size: number;
  contentType: string;
  etag: string;
  deleted: boolean;
  /** when the Content-Type was set, if later than the data (a POST) */
  ctypeTimestamp?: Timestamp;
  /** when the metadata was last set, if later (a POST) */
  metaTimestamp?: Timestamp;
}

/** Where the account server(s) of this container are: from X-Account-* of the last container PUT/DELETE. */
export interface AccountNodes {
  partition: string;
  nodes: Array<{ host: string; device: string }>;
}

export class ContainerDb extends StatDb<ContainerInfo> {
  protected readonly statTable = 'container_stat';
  protected readonly type = 'container';

  constructor(
    cache: ConstructorParameters<typeof StatDb>[0],
    path: string,
    private readonly account: string,
    private readonly container: string,
  ) {
    super(cache, path);
  }

  protected build(db: Database.Database, putTimestamp: string, id: string, createdAt: string): void {
    db.exec(SCHEMA);
    db.prepare('INSERT INTO container_stat (account, container, created_at, put_timestamp, status_changed_at, id) VALUES (?, ?, ?, ?, ?, ?)').run(
      this.account,
      this.container,
      createdAt,
      putTimestamp,
      putTimestamp,
      id,
    );
  }

  info(): ContainerInfo {
    return this.one<ContainerInfo>('SELECT * FROM container_stat');
  }

  /** Deleted: a delete newer than the last PUT, and no objects left. */
  isDeleted(info = this.info()): boolean {
    return info.object_count === 0 && info.delete_timestamp > info.put_timestamp;
  }

  isEmpty(): boolean {
    return this.info().object_count === 0;
  }

  /**
   * Records an object update, field group by field group where it is newer than what is
   * stored (Swift's update_new_item_from_existing): size, ETag and deletion go with the data
   * timestamp, the Content-Type with its own, the last-modified time with the metadata's.
   */
  putObject(record: ObjectRecord): void {
    this.transaction(() => {
      const existing = this.one<ObjectRow | undefined>('SELECT * FROM object WHERE name = ?', record.name);
      const data = record.timestamp;
      const ctype = record.ctypeTimestamp ?? data;
      const meta = record.metaTimestamp ?? ctype;
      const incoming = splitSwiftBytes(record.contentType);
      let row: ObjectRow = {
        name: record.name,
        created_at: data.internal,
        size: record.size,
        content_type: incoming.contentType,
        etag: record.etag,
        deleted: record.deleted ? 1 : 0,
        ctype_timestamp: ctype.internal,
        meta_timestamp: meta.internal,
      };
      let swiftBytes = incoming.swiftBytes;
      if (existing) {
        const stored = splitSwiftBytes(existing.content_type);
        const newerData = data.newerThan(Timestamp.parse(existing.created_at));
        const newerCtype = ctype.newerThan(Timestamp.parse(existing.ctype_timestamp));
        const newerMeta = meta.newerThan(Timestamp.parse(existing.meta_timestamp));
        if (!newerData && !newerCtype && !newerMeta) return;
        if (!newerData) {
          row = { ...row, created_at: existing.created_at, size: existing.size, etag: existing.etag, deleted: existing.deleted };
          swiftBytes = stored.swiftBytes;
        }
        if (!newerCtype) row = { ...row, content_type: stored.contentType, ctype_timestamp: existing.ctype_timestamp };
        if (!newerMeta) row = { ...row, meta_timestamp: existing.meta_timestamp };
        this.run('DELETE FROM object WHERE name = ?', record.name);
      }
      if (swiftBytes !== undefined) row.content_type += `;swift_bytes=${swiftBytes}`;
      this.run(
        'INSERT INTO object (name, created_at, size, content_type, etag, deleted, ctype_timestamp, meta_timestamp) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
        row.name,
        row.created_at,
        row.size,
        row.content_type,
        row.etag,
        row.deleted,
        row.ctype_timestamp,
        row.meta_timestamp,
      );
    });
  }

  listObjects(query: ListingQuery): Array<ObjectRow | Subdir> {
    return listWithDelimiter(query, (bounds) => {
      const { where, args, order } = pageSql(bounds);
      return this.all<ObjectRow>(`SELECT * FROM object WHERE deleted = 0${where} ORDER BY name ${order} LIMIT ?`, ...args, bounds.limit);
    });
  }

  /** Rows changed after `rowid`, oldest change first (for the replicator). */
  rowsSince(rowid: number, limit: number): Array<ObjectRow & { ROWID: number }> {
    return this.all('SELECT ROWID, * FROM object WHERE ROWID > ? ORDER BY ROWID LIMIT ?', rowid, limit);
  }

  get accountNodes(): AccountNodes | undefined {
    const text = this.info().account_nodes;
    if (!text) return undefined;
    try {
      return JSON.parse(text) as AccountNodes;
    } catch {
      return undefined;
    }
  }

  setAccountNodes(nodes: AccountNodes): void {
    this.run('UPDATE container_stat SET account_nodes = ?', JSON.stringify(nodes));
  }

  /** Remembers what the account servers were last told (Swift's reported()). */
  reported(info: Pick<ContainerInfo, 'put_timestamp' | 'delete_timestamp' | 'object_count' | 'bytes_used'>): void {
    this.run(
      'UPDATE container_stat SET reported_put_timestamp = ?, reported_delete_timestamp = ?, reported_object_count = ?, reported_bytes_used = ?',
      info.put_timestamp,
      info.delete_timestamp,
      info.object_count,
      info.bytes_used,
    );
  }
}
