// Versioned migrations per service, recorded in <service>_migration so that services sharing
// one database (possible in a split deployment) keep separate histories.
import { Migrator, type Kysely, type Migration } from 'kysely';

export interface NamedMigration extends Migration {
  /** sortable, e.g. '001_initial' */
  name: string;
}

export class MigrationError extends Error {}

function migratorFor(db: Kysely<any>, service: string, migrations: NamedMigration[]): Migrator {
  const byName = Object.fromEntries(migrations.map((m) => [m.name, m]));
  return new Migrator({
    db,
    provider: { getMigrations: async () => byName },
    migrationTableName: `${service.replace(/-/g, '_')}_migration`,
    migrationLockTableName: `${service.replace(/-/g, '_')}_migration_lock`,
  });
}

/** Applies every pending migration; returns the names applied. */
export async function migrateToLatest(db: Kysely<any>, service: string, migrations: NamedMigration[]): Promise<string[]> {
  const { error, results } = await migratorFor(db, service, migrations).migrateToLatest();
  if (error) {
    const failed = results?.find((r) => r.status === 'Error')?.migrationName ?? 'unknown';
    throw new MigrationError(`${service} migration ${failed} failed: ${error instanceof Error ? error.message : String(error)}`);
  }
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}

/** Names of the migrations already applied, oldest first. */
export async function appliedMigrations(db: Kysely<any>, service: string, migrations: NamedMigration[]): Promise<string[]> {
  const list = await migratorFor(db, service, migrations).getMigrations();
  return list.filter((m) => m.executedAt).map((m) => m.name);
}
