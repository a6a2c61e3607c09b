// One account's database (Swift's AccountBroker): a row per container as its container
// servers last reported it, and the account's totals, kept by triggers. As with containers,
// rows are replaced (delete + insert), never updated, so ROWID order is change order.
import { EMPTY_HASH } from '../db/chexor.ts';
import type { DbHandleCache } from '../db/handle-cache.ts';
import { StatDb, type StatInfo } from '../db/stat-db.ts';
import { Timestamp } from '../timestamp.ts';

const SCHEMA = `
  CREATE TABLE container (
    ROWID INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    put_timestamp TEXT NOT NULL,
    delete_timestamp TEXT NOT NULL,
    object_count INTEGER NOT NULL,
    bytes_used INTEGER NOT NULL,
    deleted INTEGER NOT NULL DEFAULT 0
  );
  CREATE UNIQUE INDEX ix_container_name ON container (name);
  CREATE INDEX ix_container_deleted_name ON container (deleted, name);

  CREATE TABLE account_stat (
    account TEXT NOT NULL,
    created_at TEXT NOT NULL,
    put_timestamp TEXT NOT NULL DEFAULT '0',
    delete_timestamp TEXT NOT NULL DEFAULT '0',
    container_count INTEGER NOT NULL DEFAULT 0,
    object_count INTEGER NOT NULL DEFAULT 0,
    bytes_used INTEGER NOT NULL DEFAULT 0,
    hash TEXT NOT NULL DEFAULT '${EMPTY_HASH}',
    id TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT '',
    status_changed_at TEXT NOT NULL DEFAULT '0',
    metadata TEXT NOT NULL DEFAULT ''
  );

  CREATE TRIGGER container_insert AFTER INSERT ON container BEGIN
    UPDATE account_stat SET
      container_count = container_count + (1 - new.deleted),
      object_count = object_count + new.object_count,
      bytes_used = bytes_used + new.bytes_used,
      hash = chexor(hash, new.name, new.put_timestamp || '-' || new.delete_timestamp || '-' || new.object_count || '-' || new.bytes_used);
  END;
  CREATE TRIGGER container_delete AFTER DELETE ON container BEGIN
    UPDATE account_stat SET
      container_count = container_count - (1 - old.deleted),
      object_count = object_count - old.object_count,
      bytes_used = bytes_used - old.bytes_used,
      hash = chexor(hash, old.name, old.put_timestamp || '-' || old.delete_timestamp || '-' || old.object_count || '-' || old.bytes_used);
  END;
  CREATE TRIGGER container_update BEFORE UPDATE ON container BEGIN
    SELECT RAISE(FAIL, 'UPDATE not allowed; DELETE and INSERT');
  END;
`;

export interface AccountInfo extends StatInfo {
  container_count: number;
}

export interface ContainerRow {
  name: string;
  put_timestamp: string;
  delete_timestamp: string;
  object_count: number;
  bytes_used: number;
  deleted: number;
}

/** A container server's report (PUT /d/p/a/c to the account server). */
export interface ContainerReport {
  name: string;
  putTimestamp: Timestamp;
  deleteTimestamp: Timestamp;
  objectCount: number;
  bytesUsed: number;
}

export class AccountDb extends StatDb<AccountInfo, ContainerRow> {
  protected readonly statTable = 'account_stat';
  protected readonly rowTable = 'container';
  protected readonly type = 'account';
  protected readonly schema = SCHEMA;

  constructor(cache: DbHandleCache, path: string, account: string) {
    super(cache, path, { account });
  }

  /** Deleted: marked so by a DELETE, or a delete newer than the last PUT with no containers left. */
  isDeleted(info = this.info()): boolean {
    return info.status === 'DELETED' || (info.container_count === 0 && info.delete_timestamp > info.put_timestamp);
  }

  /** Deleted by an account DELETE (Swift's is_status_deleted); a PUT cannot bring it back until the reaper and replicator are done with it. */
  isStatusDeleted(info = this.info()): boolean {
    return info.status === 'DELETED' || info.delete_timestamp > info.put_timestamp;
  }

  /**
   * Records a container report: the newest put and delete timestamps are kept, the counts
   * are the reporter's; the row counts as deleted when the container's delete is newer than
   * its put and it is empty.
   */
  putContainer(report: ContainerReport): void {
    this.transaction(() => {
      const existing = this.one<ContainerRow | undefined>('SELECT * FROM container WHERE name = ?', report.name);
      let put = report.putTimestamp;
      let del = report.deleteTimestamp;
      if (existing) {
        const storedPut = Timestamp.parse(existing.put_timestamp);
        const storedDelete = Timestamp.parse(existing.delete_timestamp);
        if (storedPut.newerThan(put)) put = storedPut;
        if (storedDelete.newerThan(del)) del = storedDelete;
        this.run('DELETE FROM container WHERE name = ?', report.name);
      }
      const deleted = del.newerThan(put) && report.objectCount === 0 ? 1 : 0;
      this.run(
        'INSERT INTO container (name, put_timestamp, delete_timestamp, object_count, bytes_used, deleted) VALUES (?, ?, ?, ?, ?, ?)',
        report.name,
        put.internal,
        del.internal,
        report.objectCount,
        report.bytesUsed,
        deleted,
      );
    });
  }
}
