// One container's database (Swift's ContainerBroker): a row per object name, live or
// deleted, and the container's stats, kept by triggers. Rows are never updated in place,
// only deleted and re-inserted, so ROWID order is change order: the replicator sends the
// rows changed since the last ROWID a peer has.
import { EMPTY_HASH } from '../db/chexor.ts';
import type { DbHandleCache } from '../db/handle-cache.ts';
import { StatDb, type StatInfo } from '../db/stat-db.ts';
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

export interface ContainerInfo extends StatInfo {
  container: string;
  reported_put_timestamp: string;
  reported_delete_timestamp: string;
  reported_object_count: number;
  reported_bytes_used: number;
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

export class ContainerDb extends StatDb<ContainerInfo, ObjectRow> {
  protected readonly statTable = 'container_stat';
  protected readonly rowTable = 'object';
  protected readonly type = 'container';
  protected readonly schema = SCHEMA;

  constructor(cache: DbHandleCache, path: string, account: string, container: string) {
    super(cache, path, { account, container });
  }

  /** Deleted: a delete newer than the last PUT, and no objects left. */
  isDeleted(info = this.info()): boolean {
    return info.object_count === 0 && info.delete_timestamp > info.put_timestamp;
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

  accountNodes(info = this.info()): AccountNodes | undefined {
    const text = info.account_nodes;
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
