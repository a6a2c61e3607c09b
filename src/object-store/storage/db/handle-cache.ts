// Open SQLite handles, least recently used closed first. better-sqlite3 is synchronous, so
// within this process every use of a database runs to completion before the next: one
// writer per DB at a time without further locking. Before a handle is used, the file of its
// name is checked to be still the one it has open (the replicator may have renamed a fresh
// copy over it), and reopened if not: once per synchronous run of uses, so a request's
// several queries cost one stat, and any code that has waited for I/O since checks again.
import { closeSync, fsyncSync, linkSync, mkdirSync, openSync, statSync, unlinkSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { registerChexor } from './chexor.ts';
import { fsyncDirSync } from '../durable-file.ts';

type Db = Database.Database;

interface Entry {
  db: Db;
  /** device and inode of the file when opened */
  identity: string;
  /** the run in which the file was last checked to be this one */
  checkedIn: number;
  statements: Map<string, Database.Statement>;
}

/** How long a query waits on another process's lock before failing (Swift's broker timeout is 25 s). */
const BUSY_TIMEOUT_MS = 25_000;

export class DbAlreadyExists extends Error {}

export class DbHandleCache {
  private readonly entries = new Map<string, Entry>();
  /** counts synchronous runs that checked a file: moves on once the current one has ended */
  private run = 0;
  private runEnding = false;

  constructor(private readonly capacity = 64) {}

  /** The open database at `path`; undefined when there is no such file. */
  get(path: string): Db | undefined {
    return this.entry(path)?.db;
  }

  /** A prepared statement on the database at `path`, kept for reuse with its handle. */
  statement(path: string, sql: string): Database.Statement {
    const entry = this.entry(path);
    if (!entry) throw new Error(`no database at ${path}`);
    let statement = entry.statements.get(sql);
    if (!statement) {
      statement = entry.db.prepare(sql);
      entry.statements.set(sql, statement);
    }
    return statement;
  }

  /**
   * Creates the database at `path` crash-safely: built as a temp file beside it (fast,
   * unsynced pragmas), fsynced, then hard-linked to its name, which fails if another
   * request created it first (DbAlreadyExists); nothing half-built is ever at `path`.
   */
  create(path: string, build: (db: Db) => void): void {
    mkdirSync(dirname(path), { recursive: true });
    const tmp = `${path}.${randomBytes(8).toString('hex')}.tmp`;
    try {
      const db = new Database(tmp);
      try {
        db.pragma('synchronous = OFF');
        db.pragma('journal_mode = MEMORY');
        registerChexor(db);
        db.transaction(() => build(db))();
      } finally {
        db.close();
      }
      const fd = openSync(tmp, 'r+');
      try {
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      try {
        linkSync(tmp, path);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw new DbAlreadyExists(path);
        throw err;
      }
      fsyncDirSync(dirname(path));
      // A handle still open on a file of this name is on one that has gone since.
      this.drop(path);
    } finally {
      try {
        unlinkSync(tmp);
      } catch {
        // already gone
      }
    }
  }

  closeAll(): void {
    for (const entry of this.entries.values()) entry.db.close();
    this.entries.clear();
  }

  private entry(path: string): Entry | undefined {
    const open = this.entries.get(path);
    // Inside a transaction the handle must stay, whatever happens to the name meanwhile.
    if (open && (open.db.inTransaction || open.checkedIn === this.run)) return open;
    let identity: string;
    try {
      const stat = statSync(path);
      identity = `${stat.dev}:${stat.ino}`;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      this.drop(path);
      return undefined;
    }
    let entry = this.entries.get(path);
    if (entry && entry.identity !== identity) {
      this.drop(path);
      entry = undefined;
    }
    this.endRunSoon();
    if (entry) {
      entry.checkedIn = this.run;
      // Most recently used goes last in the Map's order.
      this.entries.delete(path);
      this.entries.set(path, entry);
      return entry;
    }
    const db = new Database(path, { fileMustExist: true, timeout: BUSY_TIMEOUT_MS });
    registerChexor(db);
    entry = { db, identity, checkedIn: this.run, statements: new Map() };
    this.entries.set(path, entry);
    while (this.entries.size > this.capacity) this.drop(this.entries.keys().next().value!);
    return entry;
  }

  /** Ends the current run in a microtask: before any callback or continuation of I/O runs. */
  private endRunSoon(): void {
    if (this.runEnding) return;
    this.runEnding = true;
    queueMicrotask(() => {
      this.run += 1;
      this.runEnding = false;
    });
  }

  private drop(path: string): void {
    const entry = this.entries.get(path);
    if (!entry) return;
    this.entries.delete(path);
    entry.db.close();
  }
}
