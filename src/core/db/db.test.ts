import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import {
  openDatabase, parseDatabaseUrl, migrateToLatest, appliedMigrations, createScratchDatabase,
  DatabaseUrlError, DatabaseConnectionError, dbBool, fromDbBool, type NamedMigration,
} from './index.ts';
import { serviceUrls, skipUnlessReachable } from '../testing/services.ts';

describe('database URLs', () => {
  test('SQLAlchemy forms map to dialects', () => {
    assert.equal(parseDatabaseUrl('sqlite://').path, ':memory:');
    assert.equal(parseDatabaseUrl('sqlite:///state/identity.db').path, 'state/identity.db');
    assert.equal(parseDatabaseUrl('sqlite:////var/lib/tenrec/x.db').path, '/var/lib/tenrec/x.db');
    const pgUrl = parseDatabaseUrl('postgresql://tenrec:s%40cret@db.example:6543/identity');
    assert.deepEqual(
      [pgUrl.dialect, pgUrl.host, pgUrl.port, pgUrl.user, pgUrl.password, pgUrl.database],
      ['postgresql', 'db.example', 6543, 'tenrec', 's@cret', 'identity'],
    );
    assert.equal(pgUrl.display, 'postgresql://tenrec:****@db.example:6543/identity');
    const my = parseDatabaseUrl('mysql+pymysql://root@127.0.0.1/keystone?charset=utf8');
    assert.deepEqual([my.dialect, my.port, my.database], ['mysql', 3306, 'keystone']);
    assert.equal(parseDatabaseUrl('mysql://u:p@h/d').dialect, 'mysql');
  });

  test('unknown scheme and malformed URLs are clear errors', () => {
    assert.throws(() => parseDatabaseUrl('oracle://u:pw@h/d'), (e: Error) =>
      e instanceof DatabaseUrlError && /unsupported database URL scheme 'oracle'/.test(e.message) && !e.message.includes('pw@'));
    assert.throws(() => parseDatabaseUrl('not a url'), DatabaseUrlError);
    assert.throws(() => parseDatabaseUrl('postgresql://host-only'), /names no database/);
  });

  test('an unreachable server is a clear error naming it, without the password', async () => {
    await assert.rejects(openDatabase('postgresql://u:topsecret@127.0.0.1:1/db'), (e: Error) =>
      e instanceof DatabaseConnectionError && e.message.includes('127.0.0.1:1') && !e.message.includes('topsecret'));
    await assert.rejects(openDatabase('mysql://root@127.0.0.1:1/db'), DatabaseConnectionError);
  });
});

const migrations: NamedMigration[] = [
  {
    name: '001_widgets',
    up: async (db) => {
      await db.schema.createTable('widget')
        .addColumn('id', 'varchar(64)', (c) => c.primaryKey())
        .addColumn('name', 'varchar(255)', (c) => c.notNull().unique())
        .addColumn('enabled', 'integer', (c) => c.notNull())
        .execute();
    },
  },
  {
    name: '002_widget_extra',
    up: async (db) => {
      await db.schema.alterTable('widget').addColumn('extra', 'text').execute();
    },
  },
];

for (const [name, adminUrl] of [
  ['sqlite', 'sqlite://'],
  ['postgresql', serviceUrls.postgresql],
  ['mysql', serviceUrls.mysql],
] as const) {
  describe(`migrations and values on ${name}`, async () => {
    const skip = name === 'sqlite' ? false : await skipUnlessReachable(name, adminUrl);
    let scratch: Awaited<ReturnType<typeof createScratchDatabase>> | undefined;
    before(async () => {
      if (!skip) scratch = await createScratchDatabase(adminUrl);
    });
    after(async () => {
      await scratch?.drop();
    });

    test('migrations apply once, in order, and record themselves', { skip }, async () => {
      const { db, close } = await openDatabase<any>(scratch!.url);
      try {
        assert.deepEqual(await migrateToLatest(db, 'widgets', migrations.slice(0, 1)), ['001_widgets']);
        assert.deepEqual(await migrateToLatest(db, 'widgets', migrations), ['002_widget_extra']);
        assert.deepEqual(await migrateToLatest(db, 'widgets', migrations), []);
        assert.deepEqual(await appliedMigrations(db, 'widgets', migrations), ['001_widgets', '002_widget_extra']);
        await db.insertInto('widget').values({ id: 'a', name: 'ünïcode ✓', enabled: dbBool(true), extra: null }).execute();
        const row = await db.selectFrom('widget').selectAll().executeTakeFirstOrThrow();
        assert.equal(row.name, 'ünïcode ✓');
        assert.equal(fromDbBool(row.enabled), true);
        await assert.rejects(db.insertInto('widget').values({ id: 'b', name: 'ünïcode ✓', enabled: 0 }).execute());
        const count = await sql<{ n: number }>`select count(*) as n from widget`.execute(db);
        assert.equal(Number(count.rows[0]!.n), 1);
      } finally {
        await close();
      }
    });
  });
}
