// Opens a Kysely database on SQLite, PostgreSQL or MySQL/MariaDB from a URL.
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { Kysely, MysqlDialect, PostgresDialect, SqliteDialect, sql } from 'kysely';
import SqliteDatabase from 'better-sqlite3';
import pg from 'pg';
import { createPool } from 'mysql2';
import { parseDatabaseUrl, type Dialect } from './url.ts';

export class DatabaseConnectionError extends Error {}

export interface Database<DB> {
  db: Kysely<DB>;
  dialect: Dialect;
  /** the URL with the password masked */
  display: string;
  close(): Promise<void>;
}

// PostgreSQL returns BIGINT/NUMERIC as strings by default; our counters fit in a double.
pg.types.setTypeParser(20, (v) => Number(v));

export async function openDatabase<DB>(url: string): Promise<Database<DB>> {
  const u = parseDatabaseUrl(url);
  let db: Kysely<DB>;
  if (u.dialect === 'sqlite') {
    if (u.path !== ':memory:') mkdirSync(dirname(u.path!), { recursive: true });
    const handle = new SqliteDatabase(u.path!);
    handle.pragma('journal_mode = WAL');
    handle.pragma('synchronous = NORMAL');
    handle.pragma('foreign_keys = ON');
    handle.pragma('busy_timeout = 5000');
    db = new Kysely<DB>({ dialect: new SqliteDialect({ database: handle }) });
  } else if (u.dialect === 'postgresql') {
    const pool = new pg.Pool({
      host: u.host,
      port: u.port,
      user: u.user,
      password: u.password,
      database: u.database,
      max: 10,
      connectionTimeoutMillis: 5000,
    });
    // An idle client losing its server must not crash the process.
    pool.on('error', () => {});
    db = new Kysely<DB>({ dialect: new PostgresDialect({ pool }) });
  } else {
    const pool = createPool({
      host: u.host,
      port: u.port,
      user: u.user,
      password: u.password,
      database: u.database,
      connectionLimit: 10,
      connectTimeout: 5000,
      charset: 'utf8mb4',
      // Keep DATETIME/DECIMAL out of the way: we store timestamps as ISO strings.
      dateStrings: true,
      supportBigNumbers: true,
      bigNumberStrings: false,
    });
    db = new Kysely<DB>({ dialect: new MysqlDialect({ pool }) });
  }
  try {
    await sql`select 1`.execute(db);
  } catch (err) {
    await db.destroy().catch(() => {});
    const reason = err instanceof Error ? err.message || (err as NodeJS.ErrnoException).code : String(err);
    throw new DatabaseConnectionError(`cannot open ${u.dialect} database ${u.display}: ${reason}`);
  }
  return { db, dialect: u.dialect, display: u.display, close: () => db.destroy() };
}
