// Tags of any resource (the standard attribute every Neutron resource has).
import type { NetDb, NetTx } from './database.ts';

/** resource id → its tags, sorted, for the ids given (all of a type when ids is omitted). */
export async function tagsFor(db: NetDb | NetTx, resourceType: string, ids?: string[]): Promise<Map<string, string[]>> {
  let q = db.selectFrom('tag').select(['resource_id', 'tag']).where('resource_type', '=', resourceType);
  if (ids) {
    if (ids.length === 0) return new Map();
    if (ids.length <= 500) q = q.where('resource_id', 'in', ids);
  }
  const out = new Map<string, string[]>();
  for (const row of await q.orderBy('tag').execute()) {
    const list = out.get(row.resource_id) ?? [];
    list.push(row.tag);
    out.set(row.resource_id, list);
  }
  return out;
}

/** Removes a deleted resource's tags, in the deleting transaction. */
export async function deleteTags(tx: NetTx, resourceType: string, id: string): Promise<void> {
  await tx.deleteFrom('tag').where('resource_type', '=', resourceType).where('resource_id', '=', id).execute();
}
