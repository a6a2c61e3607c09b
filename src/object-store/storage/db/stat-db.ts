// What account and container databases share (Swift's DatabaseBroker): one row of stats in
// <kind>_stat with put/delete timestamps and the metadata JSON, timestamps kept as internal
// strings (fixed width, so SQL compares them correctly as text).
import { randomUUID } from 'node:crypto';
import type Database from 'better-sqlite3';
import type { ServerType } from '../header-families.ts';
import { fail } from '../responses.ts';
import { Timestamp } from '../timestamp.ts';
import { changesDbMetadata, checkDbMetadataTotals, mergeDbMetadata, parseDbMetadata, type DbMetadata } from './db-metadata.ts';
import { DbAlreadyExists, type DbHandleCache } from './handle-cache.ts';

export abstract class StatDb<Info> {
  protected abstract readonly statTable: 'account_stat' | 'container_stat';
  protected abstract readonly type: ServerType;
  /** metadata a delete leaves in place (none for accounts and containers) */
  protected readonly keepOnDelete: readonly string[] = [];

  constructor(
    protected readonly cache: DbHandleCache,
    readonly path: string,
  ) {}

  /** Creates the tables and the stat row. */
  protected abstract build(db: Database.Database, putTimestamp: string, id: string, createdAt: string): void;

  abstract info(): Info;

  get exists(): boolean {
    return this.cache.get(this.path) !== undefined;
  }

  /** Creates the database; false when it already existed (another request won the race). */
  initialize(putTimestamp: Timestamp): boolean {
    try {
      this.cache.create(this.path, (db) => this.build(db, putTimestamp.internal, randomUUID(), Timestamp.now().internal));
      return true;
    } catch (err) {
      if (err instanceof DbAlreadyExists) return false;
      throw err;
    }
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
      for (const key of Object.keys(this.metadata)) if (!this.keepOnDelete.includes(key)) cleared[key] = ['', timestamp.internal];
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
