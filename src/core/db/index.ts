export { openDatabase, DatabaseConnectionError, type Database } from './database.ts';
export { parseDatabaseUrl, maskUrlPassword, DatabaseUrlError, type Dialect, type DatabaseUrl } from './url.ts';
export { migrateToLatest, appliedMigrations, MigrationError, type NamedMigration } from './migrations.ts';
export { createScratchDatabase, type ScratchDatabase } from './scratch.ts';
export { dbBool, fromDbBool, nowIso } from './values.ts';
export { isUniqueViolation } from './errors.ts';
