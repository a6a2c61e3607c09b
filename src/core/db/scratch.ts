// Throw-away databases on a real PostgreSQL or MySQL server, for test suites.
import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import { openDatabase } from './database.ts';
import { parseDatabaseUrl } from './url.ts';

export interface ScratchDatabase {
  url: string;
  drop(): Promise<void>;
}

/** Creates an empty database next to the one `adminUrl` names; sqlite URLs get a temp in-memory db. */
export async function createScratchDatabase(adminUrl: string): Promise<ScratchDatabase> {
  const u = parseDatabaseUrl(adminUrl);
  if (u.dialect === 'sqlite') return { url: 'sqlite://', drop: async () => {} };
  const name = `tenrec_test_${randomBytes(5).toString('hex')}`;
  const admin = await openDatabase(adminUrl);
  try {
    await sql`create database ${sql.raw(name)}`.execute(admin.db);
  } finally {
    await admin.close();
  }
  const auth = u.user ? `${encodeURIComponent(u.user)}${u.password ? `:${encodeURIComponent(u.password)}` : ''}@` : '';
  const url = `${u.dialect}://${auth}${u.host}:${u.port}/${name}`;
  return {
    url,
    drop: async () => {
      const again = await openDatabase(adminUrl);
      try {
        const force = u.dialect === 'postgresql' ? sql.raw(' with (force)') : sql.raw('');
        await sql`drop database if exists ${sql.raw(name)}${force}`.execute(again.db);
      } finally {
        await again.close();
      }
    },
  };
}
