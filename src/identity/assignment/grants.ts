// Grants: one role for one actor (a user or a group) on one target (a project, a domain or the
// system), optionally inherited to the projects below the target (OS-INHERIT). Granting is
// idempotent. Removing a grant revokes the tokens it may have put roles in: every token of the
// user (or of each member of the group) that could carry roles from that target. This revokes
// more than strictly needed (a token that also holds the role another way goes too, as in
// Keystone) and never less.
import type { IdentityDb, IdentityTx } from '../db/store.ts';
import { SYSTEM_TARGET, type AssignmentType } from '../db/schema.ts';
import type { RevocationMatch } from '../token/revocation.ts';

export type ActorKind = 'user' | 'group';
export type TargetKind = 'project' | 'domain' | 'system';

export interface Grant {
  actor: ActorKind;
  actorId: string;
  target: TargetKind;
  /** the project or domain id; ignored for the system */
  targetId: string;
  roleId: string;
  /** OS-INHERIT: the role applies to the projects below the target, not to the target itself */
  inherited: boolean;
}

export type Revoke = (tx: IdentityTx, match: RevocationMatch) => Promise<void>;

const TYPES: Record<ActorKind, Record<TargetKind, AssignmentType>> = {
  user: { project: 'UserProject', domain: 'UserDomain', system: 'UserSystem' },
  group: { project: 'GroupProject', domain: 'GroupDomain', system: 'GroupSystem' },
};

export const assignmentType = (actor: ActorKind, target: TargetKind): AssignmentType => TYPES[actor][target];

const targetIdOf = (g: Pick<Grant, 'target' | 'targetId'>) => (g.target === 'system' ? SYSTEM_TARGET : g.targetId);

/** The row a grant is stored as. */
function rowOf(g: Grant) {
  return { type: assignmentType(g.actor, g.target), actor_id: g.actorId, target_id: targetIdOf(g), role_id: g.roleId, inherited: g.inherited ? 1 : 0 };
}

export async function hasGrant(db: IdentityDb, g: Grant): Promise<boolean> {
  const r = rowOf(g);
  const found = await db.selectFrom('assignment').select('role_id')
    .where('type', '=', r.type).where('actor_id', '=', r.actor_id).where('target_id', '=', r.target_id)
    .where('role_id', '=', r.role_id).where('inherited', '=', r.inherited)
    .executeTakeFirst();
  return found !== undefined;
}

/** Records the grant unless it exists already. */
export async function addGrant(tx: IdentityTx, g: Grant): Promise<void> {
  if (await hasGrant(tx, g)) return;
  await tx.insertInto('assignment').values(rowOf(g)).execute();
}

/** Removes the grant and revokes the tokens it may have fed; false when there was no such grant. */
export async function removeGrant(tx: IdentityTx, g: Grant, revoke: Revoke): Promise<boolean> {
  const r = rowOf(g);
  const result = await tx.deleteFrom('assignment')
    .where('type', '=', r.type).where('actor_id', '=', r.actor_id).where('target_id', '=', r.target_id)
    .where('role_id', '=', r.role_id).where('inherited', '=', r.inherited)
    .executeTakeFirst();
  if (Number(result.numDeletedRows) === 0) return false;
  const users = g.actor === 'user'
    ? [g.actorId]
    : (await tx.selectFrom('user_group_membership').select('user_id').where('group_id', '=', g.actorId).execute()).map((m) => m.user_id);
  for (const userId of users) await revoke(tx, revocationFor(g, userId));
  return true;
}

/**
 * The revocation event covering every token of `userId` that the grant could have given a
 * role: a direct project grant feeds only tokens on that project; a domain grant (direct or
 * inherited) feeds tokens whose scope is in that domain; an inherited project grant feeds a
 * whole subtree and a system grant system tokens, so those revoke all the user's tokens.
 */
export function revocationFor(g: Grant, userId: string): RevocationMatch {
  if (g.target === 'project' && !g.inherited) return { user_id: userId, project_id: g.targetId };
  if (g.target === 'domain') return { user_id: userId, domain_id: g.targetId };
  return { user_id: userId };
}

/** The ids of the roles granted to the actor on the target (inherited or not), sorted. */
export async function grantedRoleIds(db: IdentityDb, g: Omit<Grant, 'roleId'>): Promise<string[]> {
  const rows = await db.selectFrom('assignment').select('role_id')
    .where('type', '=', assignmentType(g.actor, g.target)).where('actor_id', '=', g.actorId)
    .where('target_id', '=', targetIdOf(g)).where('inherited', '=', g.inherited ? 1 : 0)
    .orderBy('role_id')
    .execute();
  return rows.map((r) => r.role_id);
}
