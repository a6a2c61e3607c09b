// The identity database handle and its write discipline: every change runs in a transaction
// that also bumps the generation, so every cache of derived data (validated tokens, catalog)
// in every identity process sees that something changed.
import { sql, type Kysely, type Transaction } from 'kysely';
import type { IdentityDatabase } from './schema.ts';

export type IdentityDb = Kysely<IdentityDatabase>;
export type IdentityTx = Transaction<IdentityDatabase>;

export class IdentityStore {
  constructor(readonly db: IdentityDb) {}

  /** Runs `change` in a transaction and marks identity data as changed. */
  async write<T>(change: (tx: IdentityTx) => Promise<T>): Promise<T> {
    return this.db.transaction().execute(async (tx) => {
      const result = await change(tx);
      await tx.updateTable('identity_state')
        .set({ value: sql`value + 1` })
        .where('name', '=', 'generation')
        .execute();
      return result;
    });
  }

  /** The current generation; it changes after every write. */
  async generation(): Promise<number> {
    const row = await this.db.selectFrom('identity_state').select('value').where('name', '=', 'generation').executeTakeFirst();
    return Number(row?.value ?? 0);
  }
}
