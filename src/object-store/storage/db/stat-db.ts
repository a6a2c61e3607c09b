// What account and container databases share (Swift's DatabaseBroker): a table of rows by
// name, replaced (delete + insert) and never updated, so ROWID order is change order; and one
// row of stats in <kind>_stat with the names, put/delete timestamps and the metadata JSON.
// Timestamps are kept as internal strings (fixed width, so SQL compares them correctly as text).
import { randomUUID } from 'node:crypto';
import type Database from 'better-sqlite3';
import type { ServerType } from '../header-families.ts';
import { fail } from '../responses.ts';
import { Timestamp } from '../timestamp.ts';
import { changesDbMetadata, checkDbMetadataTotals, mergeDbMetadata, parseDbMetadata, type DbMetadata } from './db-metadata.ts';
import { DbAlreadyExists, type DbHandleCache } from './handle-cache.ts';
import { listWithDelimiter, pageSql, type ListingQuery, type Subdir } from './listing.ts';

/** The stat row's columns both kinds have. */
export interface StatInfo {
  account: string;
  created_at: string;
  put_timestamp: string;
  delete_timestamp: string;
  status: string;
  status_changed_at: string;
  object_count: number;
  bytes_used: number;
  hash: string;
  id: string;
  /** DbMetadata as JSON ('' for none) */
  metadata: string;
}

export abstract class StatDb<Info extends StatInfo, Row extends { name: string }> {
  protected abstract readonly statTable: 'account_stat' | 'container_stat';
  /** the table of rows: a container's objects, an account's containers */
  protected abstract readonly rowTable: 'object' | 'container';
  protected abstract readonly type: ServerType;
  /** CREATE statements of both tables and the triggers that keep the stats */
  protected abstract readonly schema: string;

  constructor(
    protected readonly cache: DbHandleCache,
    readonly path: string,
    /** the stat row's name columns: account, and container for a container */
    private readonly names: Record<string, string>,
  ) {}

  get exists(): boolean {
    return this.cache.get(this.path) !== undefined;
  }

  /** Creates the database; false when it already existed (another request won the race). */
  initialize(putTimestamp: Timestamp): boolean {
    try {
      this.cache.create(this.path, (db) => this.build(db, putTimestamp.internal));
      return true;
    } catch (err) {
      if (err instanceof DbAlreadyExists) return false;
      throw err;
    }
  }

  /** The tables, and the stat row of a database made now, with a new id. */
  private build(db: Database.Database, putTimestamp: string): void {
    db.exec(this.schema);
    const columns = { ...this.names, created_at: Timestamp.now().internal, put_timestamp: putTimestamp, status_changed_at: putTimestamp, id: randomUUID() };
    const names = Object.keys(columns);
    db.prepare(`INSERT INTO ${this.statTable} (${names.join(', ')}) VALUES (${names.map(() => '?').join(', ')})`).run(...Object.values(columns));
  }

  /** The stat row, metadata included (so a HEAD reads it once). */
  info(): Info {
    return this.one<Info>(`SELECT * FROM ${this.statTable}`);
  }

  /** Live rows in name order (or reversed), as a listing asks for them. */
  list(query: ListingQuery): Array<Row | Subdir> {
    return listWithDelimiter(query, (bounds) => {
      const { where, args, order } = pageSql(bounds);
      return this.all<Row>(`SELECT * FROM ${this.rowTable} WHERE deleted = 0${where} ORDER BY name ${order} LIMIT ?`, ...args, bounds.limit);
    });
  }

  /** Rows changed after `rowid`, oldest change first (for the replicator). */
  rowsSince(rowid: number, limit: number): Array<Row & { ROWID: number }> {
    return this.all(`SELECT ROWID, * FROM ${this.rowTable} WHERE ROWID > ? ORDER BY ROWID LIMIT ?`, rowid, limit);
  }

  protected run(sql: string, ...args: unknown[]): Database.RunResult {
    return this.cache.statement(this.path, sql).run(...args);
  }

  protected one<T>(sql: string, ...args: unknown[]): T {
    return this.cache.statement(this.path, sql).get(...args) as T;
  }

  protected all<T>(sql: string, ...args: unknown[]): T[] {
    return this.cache.statement(this.path, sql).all(...args) as T[];
  }

  protected transaction<T>(fn: () => T): T {
    const db = this.cache.get(this.path);
    if (!db) throw new Error(`no database at ${this.path}`);
    return db.transaction(fn)();
  }

  get metadata(): DbMetadata {
    return parseDbMetadata(this.one<{ metadata: string }>(`SELECT metadata FROM ${this.statTable}`).metadata);
  }

  /** Merges metadata (newest timestamp per key); with `validate`, a result over Swift's totals is a 400 and nothing changes. */
  updateMetadata(updates: DbMetadata, validate: boolean): void {
    this.transaction(() => {
      const current = this.metadata;
      if (!changesDbMetadata(current, updates)) return;
      const merged = mergeDbMetadata(current, updates);
      if (validate) {
        const problem = checkDbMetadataTotals(merged, this.type);
        if (problem) fail(400, problem);
      }
      this.run(`UPDATE ${this.statTable} SET metadata = ?`, JSON.stringify(merged));
    });
  }

  updatePutTimestamp(timestamp: Timestamp): void {
    this.run(`UPDATE ${this.statTable} SET put_timestamp = ? WHERE put_timestamp < ?`, timestamp.internal, timestamp.internal);
  }

  updateStatusChangedAt(timestamp: Timestamp): void {
    this.run(`UPDATE ${this.statTable} SET status_changed_at = ? WHERE status_changed_at < ?`, timestamp.internal, timestamp.internal);
  }

  /** Marks the database deleted at `timestamp` and clears its metadata (Swift's delete_db); the file stays until the replicator reclaims it. */
  markDeleted(timestamp: Timestamp): void {
    this.transaction(() => {
      const cleared: DbMetadata = {};
      for (const key of Object.keys(this.metadata)) cleared[key] = ['', timestamp.internal];
      this.updateMetadata(cleared, false);
      this.run(
        `UPDATE ${this.statTable} SET delete_timestamp = ?, status = 'DELETED', status_changed_at = ? WHERE delete_timestamp < ?`,
        timestamp.internal,
        timestamp.internal,
        timestamp.internal,
      );
    });
  }
}
