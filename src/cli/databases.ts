// The database of each service the CLI knows, and `db sync` for one of them.
import type { Config } from '../core/config/index.ts';
import { appliedMigrations, migrateToLatest, openDatabase, type NamedMigration } from '../core/db/index.ts';
import { identityDatabaseUrl } from '../identity/service.ts';
import { identityMigrations } from '../identity/db/migrations.ts';
import { imageDatabaseUrl } from '../image/service.ts';
import { imageMigrations } from '../image/db/migrations.ts';

interface ServiceDatabase {
  /** the configured URL, or the SQLite file under the state directory */
  url(config: Config, stateDir: string): string;
  migrations: NamedMigration[];
}

export const serviceDatabases: Record<string, ServiceDatabase> = {
  identity: { url: identityDatabaseUrl, migrations: identityMigrations },
  image: { url: imageDatabaseUrl, migrations: imageMigrations },
};

export interface SyncResult {
  service: string;
  /** the database URL, password masked */
  database: string;
  /** migrations this run applied, oldest first */
  applied: string[];
  /** every migration applied now, oldest first */
  current: string[];
}

/** Applies the service's pending migrations (creating a SQLite file and its directory if needed). */
export async function syncDatabase(service: string, config: Config, stateDir: string): Promise<SyncResult> {
  const { url, migrations } = serviceDatabases[service]!;
  const database = await openDatabase(url(config, stateDir));
  try {
    const applied = await migrateToLatest(database.db, service, migrations);
    const current = await appliedMigrations(database.db, service, migrations);
    return { service, database: database.display, applied, current };
  } finally {
    await database.close();
  }
}

/** One line saying what a sync did. */
export function describeSync(r: SyncResult): string {
  if (r.applied.length > 0) return `${r.service}: applied ${r.applied.join(', ')} (${r.database})`;
  return `${r.service}: up to date at ${r.current.at(-1) ?? 'no migrations'} (${r.database})`;
}
