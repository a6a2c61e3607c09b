// The roles a user effectively holds on a scope: direct and group assignments on the scope,
// assignments inherited from the project's ancestors and its domain, then every role those
// imply. Domain-specific roles are left out of the result (they only carry implied roles), as
// Keystone leaves them out of tokens.
import type { IdentityDb } from '../db/store.ts';
import { GLOBAL_ROLE_DOMAIN, SYSTEM_TARGET, type AssignmentType } from '../db/schema.ts';

export type Scope = { projectId: string } | { domainId: string } | { system: 'all' };

export interface EffectiveRole {
  id: string;
  name: string;
}

/** The ids of every ancestor of a project, nearest first (not including the project). */
export async function projectAncestors(db: IdentityDb, projectId: string): Promise<string[]> {
  const ancestors: string[] = [];
  let current: string | null = projectId;
  while (current) {
    const row: { parent_id: string | null } | undefined = await db
      .selectFrom('project').select('parent_id').where('id', '=', current).executeTakeFirst();
    current = row?.parent_id ?? null;
    if (current) {
      if (ancestors.includes(current)) break; // defensive: never loop on bad data
      ancestors.push(current);
    }
  }
  return ancestors;
}

export async function groupsOfUser(db: IdentityDb, userId: string): Promise<string[]> {
  const rows = await db.selectFrom('user_group_membership').select('group_id').where('user_id', '=', userId).execute();
  return rows.map((r) => r.group_id);
}

/** Role ids assigned (before implication) to the user, directly or through groups, on the scope. */
export async function assignedRoleIds(db: IdentityDb, userId: string, scope: Scope): Promise<Set<string>> {
  const groups = await groupsOfUser(db, userId);
  const actors = [userId, ...groups];
  // (types, targets, inherited) triples that grant a role on this scope
  const clauses: { types: AssignmentType[]; targets: string[]; inherited: number }[] = [];
  if ('projectId' in scope) {
    const project = await db.selectFrom('project').select(['domain_id']).where('id', '=', scope.projectId).executeTakeFirst();
    if (!project) return new Set();
    clauses.push({ types: ['UserProject', 'GroupProject'], targets: [scope.projectId], inherited: 0 });
    const ancestors = (await projectAncestors(db, scope.projectId)).filter((id) => id !== project.domain_id);
    if (ancestors.length) clauses.push({ types: ['UserProject', 'GroupProject'], targets: ancestors, inherited: 1 });
    clauses.push({ types: ['UserDomain', 'GroupDomain'], targets: [project.domain_id], inherited: 1 });
  } else if ('domainId' in scope) {
    clauses.push({ types: ['UserDomain', 'GroupDomain'], targets: [scope.domainId], inherited: 0 });
  } else {
    clauses.push({ types: ['UserSystem', 'GroupSystem'], targets: [SYSTEM_TARGET], inherited: 0 });
  }
  const rows = await db
    .selectFrom('assignment')
    .select('role_id')
    .where('actor_id', 'in', actors)
    .where((eb) =>
      eb.or(clauses.map((c) => eb.and([eb('type', 'in', c.types), eb('target_id', 'in', c.targets), eb('inherited', '=', c.inherited)]))),
    )
    .execute();
  return new Set(rows.map((r) => r.role_id));
}

/** Adds every role implied (transitively) by the given ones. */
export async function expandImpliedRoles(db: IdentityDb, roleIds: Iterable<string>): Promise<Set<string>> {
  const result = new Set(roleIds);
  let frontier = [...result];
  while (frontier.length) {
    const rows = await db.selectFrom('implied_role').select('implied_role_id').where('prior_role_id', 'in', frontier).execute();
    frontier = rows.map((r) => r.implied_role_id).filter((id) => !result.has(id));
    for (const id of frontier) result.add(id);
  }
  return result;
}

/** Effective global roles of the user on the scope, sorted by name. */
export async function effectiveRoles(db: IdentityDb, userId: string, scope: Scope): Promise<EffectiveRole[]> {
  const ids = await expandImpliedRoles(db, await assignedRoleIds(db, userId, scope));
  if (ids.size === 0) return [];
  const rows = await db
    .selectFrom('role')
    .select(['id', 'name'])
    .where('id', 'in', [...ids])
    .where('domain_id', '=', GLOBAL_ROLE_DOMAIN)
    .orderBy('name')
    .execute();
  return rows;
}
