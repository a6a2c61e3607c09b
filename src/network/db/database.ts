// The networking database handle. Every change runs in a transaction (write).
import type { Kysely, Transaction } from 'kysely';
import { openDatabase, migrateToLatest, type Dialect } from '../../core/db/index.ts';
import type { NetworkDatabase } from './schema.ts';
import { networkMigrations } from './migrations.ts';

export type NetDb = Kysely<NetworkDatabase>;
export type NetTx = Transaction<NetworkDatabase>;

export class NetworkData {
  constructor(readonly db: NetDb, readonly dialect: Dialect) {}

  write<T>(change: (tx: NetTx) => Promise<T>): Promise<T> {
    return this.db.transaction().execute(change);
  }
}

export async function openNetworkData(url: string): Promise<{ data: NetworkData; close: () => Promise<void> }> {
  const database = await openDatabase<NetworkDatabase>(url);
  try {
    await migrateToLatest(database.db, 'network', networkMigrations);
  } catch (err) {
    await database.close();
    throw err;
  }
  return { data: new NetworkData(database.db, database.dialect), close: database.close };
}
