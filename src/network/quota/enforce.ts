// Per-project quotas of the networking service, as Neutron's DbQuotaDriver: a project's limit
// for a resource is its row in the quota table, else the configured default ([network]
// quota_<resource>); -1 is unlimited. Usage is counted from the resource's own table, so it
// can never drift from the truth.
//
// checkQuota runs inside the creating transaction, before the insert. Like Neutron's no-lock
// driver it counts and compares; two creations racing for the very last unit of a quota may
// both pass (the database settles address, MAC and fingerprint races, not quota races).
import { typedError } from '../../core/http/index.ts';
import type { NetDb, NetTx } from '../db/database.ts';
import type { NetworkDatabase } from '../db/schema.ts';
import type { NetworkDeps } from '../api/common.ts';

export type QuotaResource =
  | 'network' | 'subnet' | 'port' | 'router' | 'floatingip' | 'security_group' | 'security_group_rule' | 'subnetpool';

/** The resources the quota API shows, each with the table its usage is counted in. */
export const QUOTA_TABLES: Record<QuotaResource, keyof NetworkDatabase> = {
  network: 'network',
  subnet: 'subnet',
  subnetpool: 'subnetpool',
  port: 'port',
  router: 'router',
  floatingip: 'floatingip',
  security_group: 'security_group',
  security_group_rule: 'security_group_rule',
};

export const QUOTA_RESOURCES = Object.keys(QUOTA_TABLES) as QuotaResource[];

export const isQuotaResource = (name: string): name is QuotaResource => Object.hasOwn(QUOTA_TABLES, name);

/** Neutron's OverQuota fault: 409 "Quota exceeded for resources: ['network']." */
export const overQuota = (resources: string[]) =>
  typedError(409, 'OverQuota', `Quota exceeded for resources: [${[...resources].sort().map((r) => `'${r}'`).join(', ')}].`);

/** The configured default limit of every resource. */
export function quotaDefaults(deps: Pick<NetworkDeps, 'settings'>): Record<QuotaResource, number> {
  const out = {} as Record<QuotaResource, number>;
  for (const r of QUOTA_RESOURCES) out[r] = deps.settings.quotaDefaults[r] ?? -1;
  return out;
}

/** A project's limits: its own where set, the defaults elsewhere. */
export async function quotaLimits(db: NetDb | NetTx, deps: Pick<NetworkDeps, 'settings'>, projectId: string): Promise<Record<QuotaResource, number>> {
  const limits = quotaDefaults(deps);
  const rows = await db.selectFrom('quota').select(['resource', 'hard_limit']).where('project_id', '=', projectId).execute();
  for (const row of rows) if (isQuotaResource(row.resource)) limits[row.resource] = Number(row.hard_limit);
  return limits;
}

async function countOf(db: NetDb | NetTx, resource: QuotaResource, projectId: string): Promise<number> {
  const table = QUOTA_TABLES[resource];
  // Every counted table has a project_id column; Kysely cannot see that through the union.
  const row = await (db as NetDb).selectFrom(table as 'network')
    .select((eb) => eb.fn.countAll<number | string>().as('n'))
    .where('project_id', '=', projectId)
    .executeTakeFirst();
  return Number(row?.n ?? 0);
}

/** How many of each resource a project has. */
export async function quotaUsage(db: NetDb | NetTx, projectId: string): Promise<Record<QuotaResource, number>> {
  const out = {} as Record<QuotaResource, number>;
  for (const r of QUOTA_RESOURCES) out[r] = await countOf(db, r, projectId);
  return out;
}

/** How many of one resource a project has. */
export const resourceUsage = countOf;

/**
 * Throws 409 OverQuota when `adding` more of `resource` would take the project past its limit.
 * Call it inside the write transaction that creates the resource, before inserting.
 */
export async function checkQuota(
  tx: NetTx,
  deps: Pick<NetworkDeps, 'settings'>,
  projectId: string,
  resource: QuotaResource,
  adding = 1,
): Promise<void> {
  if (adding <= 0) return;
  const own = await tx.selectFrom('quota').select('hard_limit')
    .where('project_id', '=', projectId).where('resource', '=', resource).executeTakeFirst();
  const limit = own ? Number(own.hard_limit) : (deps.settings.quotaDefaults[resource] ?? -1);
  if (limit < 0) return;
  if (adding > limit || (await countOf(tx, resource, projectId)) + adding > limit) throw overQuota([resource]);
}
