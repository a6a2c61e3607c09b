// Listing role assignments (GET /v3/role_assignments), as stored or as they take effect.
//
// Stored ("direct") mode returns assignment rows matching the filters. Effective mode answers
// "which roles does each user really get where": group assignments become one entry per member,
// inherited assignments become one entry per project they reach (every project of the domain,
// or every project below the anchor project), every implied role is added after the role that
// implies it, and domain-specific roles are dropped (they only carry implications, as in
// tokens). Effective entries keep where they came from (the stored assignment, the group, the
// prior role), which the API shows as links. The rules are those of effective-roles.ts, which
// computes the same roles for one user on one scope without the provenance.
//
// Unlike Keystone, effective mode includes system assignments (expanded the same way) unless the
// caller filters on a project, a domain or inherited assignments: system roles are part of what
// a user can do, and a system-scoped token carries them.
import type { IdentityDb } from '../db/store.ts';
import { GLOBAL_ROLE_DOMAIN, type AssignmentTable, type AssignmentType } from '../db/schema.ts';
import { groupsOfUser, projectAncestors } from './effective-roles.ts';

export interface AssignmentFilter {
  userId?: string;
  groupId?: string;
  roleId?: string;
  projectId?: string;
  /** with projectId: the projects below it too */
  includeSubtree?: boolean;
  domainId?: string;
  system?: boolean;
  /** true: only inherited assignments; false: only direct ones; undefined: both */
  inherited?: boolean;
  effective?: boolean;
}

export type AssignmentScope = { projectId: string } | { domainId: string } | { system: true };

/** One stored assignment row, as the API names it. */
export interface StoredAssignment {
  actor: 'user' | 'group';
  actorId: string;
  scope: AssignmentScope;
  roleId: string;
  inherited: boolean;
}

export interface ListedAssignment {
  roleId: string;
  userId?: string;
  groupId?: string;
  scope: AssignmentScope;
  /** shown as "OS-INHERIT:inherited_to": "projects" */
  inherited: boolean;
  /** the stored assignment this entry is, or comes from */
  source: StoredAssignment;
  /** effective mode: the group whose assignment this user entry comes from */
  viaGroupId?: string;
  /** effective mode: the role that directly implies this one */
  priorRoleId?: string;
}

const USER_TYPES: AssignmentType[] = ['UserProject', 'UserDomain', 'UserSystem'];
const GROUP_TYPES: AssignmentType[] = ['GroupProject', 'GroupDomain', 'GroupSystem'];
const PROJECT_TYPES: AssignmentType[] = ['UserProject', 'GroupProject'];
const DOMAIN_TYPES: AssignmentType[] = ['UserDomain', 'GroupDomain'];
const SYSTEM_TYPES: AssignmentType[] = ['UserSystem', 'GroupSystem'];
const ALL_TYPES: AssignmentType[] = [...USER_TYPES, ...GROUP_TYPES];

export function storedAssignment(row: AssignmentTable): StoredAssignment {
  const actor = row.type.startsWith('User') ? 'user' : 'group';
  const scope: AssignmentScope = row.type.endsWith('Project') ? { projectId: row.target_id }
    : row.type.endsWith('Domain') ? { domainId: row.target_id }
    : { system: true };
  return { actor, actorId: row.actor_id, scope, roleId: row.role_id, inherited: Number(row.inherited) === 1 };
}

const intersect = <T>(a: T[], b: T[]) => a.filter((x) => b.includes(x));

interface ProjectNode {
  id: string;
  parent_id: string | null;
  domain_id: string;
}

/** The projects (not domains) by id, with each one's children, for inheritance. */
async function projectTree(db: IdentityDb) {
  const rows: ProjectNode[] = await db.selectFrom('project').select(['id', 'parent_id', 'domain_id']).where('is_domain', '=', 0).execute();
  const children = new Map<string, string[]>();
  for (const p of rows) {
    if (!p.parent_id) continue;
    const list = children.get(p.parent_id) ?? [];
    list.push(p.id);
    children.set(p.parent_id, list);
  }
  /** every project below `id`, not including it */
  const below = (id: string): string[] => {
    const out: string[] = [];
    const seen = new Set([id]);
    const queue = [...(children.get(id) ?? [])];
    while (queue.length) {
      const next = queue.shift()!;
      if (seen.has(next)) continue; // defensive: never loop on bad data
      seen.add(next);
      out.push(next);
      queue.push(...(children.get(next) ?? []));
    }
    return out;
  };
  const inDomain = (domainId: string) => rows.filter((p) => p.domain_id === domainId).map((p) => p.id);
  return { below, inDomain };
}

/** The ids of every project in the subtree below `projectId` (not including it). */
export async function projectSubtree(db: IdentityDb, projectId: string): Promise<string[]> {
  return (await projectTree(db)).below(projectId);
}

export async function listAssignments(db: IdentityDb, f: AssignmentFilter): Promise<ListedAssignment[]> {
  const projectIds = f.projectId ? [f.projectId, ...(f.includeSubtree ? await projectSubtree(db, f.projectId) : [])] : undefined;
  return f.effective ? listEffective(db, f, projectIds) : listStored(db, f, projectIds);
}

async function listStored(db: IdentityDb, f: AssignmentFilter, projectIds: string[] | undefined): Promise<ListedAssignment[]> {
  let types = ALL_TYPES;
  if (f.userId) types = intersect(types, USER_TYPES);
  if (f.groupId) types = intersect(types, GROUP_TYPES);
  if (projectIds) types = intersect(types, PROJECT_TYPES);
  if (f.domainId) types = intersect(types, DOMAIN_TYPES);
  if (f.system) types = intersect(types, SYSTEM_TYPES);
  if (f.inherited === true) types = types.filter((t) => !SYSTEM_TYPES.includes(t)); // never inherited
  if (types.length === 0) return [];
  let q = db.selectFrom('assignment').selectAll().where('type', 'in', types);
  const actor = f.userId ?? f.groupId;
  if (actor !== undefined) q = q.where('actor_id', '=', actor);
  if (f.roleId !== undefined) q = q.where('role_id', '=', f.roleId);
  if (projectIds) q = q.where('target_id', 'in', projectIds);
  if (f.domainId !== undefined) q = q.where('target_id', '=', f.domainId);
  if (f.inherited !== undefined) q = q.where('inherited', '=', f.inherited ? 1 : 0);
  const rows = await q.orderBy('type').orderBy('actor_id').orderBy('target_id').orderBy('role_id').orderBy('inherited').execute();
  return rows.map((row) => {
    const source = storedAssignment(row);
    return {
      roleId: source.roleId,
      ...(source.actor === 'user' ? { userId: source.actorId } : { groupId: source.actorId }),
      scope: source.scope,
      inherited: source.inherited,
      source,
    };
  });
}

async function listEffective(db: IdentityDb, f: AssignmentFilter, projectIds: string[] | undefined): Promise<ListedAssignment[]> {
  // Filtering on a group, or on inherited assignments on a domain, can only give nothing: the
  // API refuses both, and this says why.
  if (f.groupId || (f.domainId && f.inherited)) return [];
  // Domains inherit nothing, so a domain filter only wants direct assignments.
  const inherited = f.domainId ? false : f.inherited;

  let types = ALL_TYPES;
  if (projectIds) types = PROJECT_TYPES.concat(DOMAIN_TYPES); // domains feed projects through inheritance
  if (f.domainId) types = DOMAIN_TYPES;
  if (f.system) types = SYSTEM_TYPES;
  if (inherited === true) types = types.filter((t) => !SYSTEM_TYPES.includes(t));
  if (types.length === 0) return [];

  let q = db.selectFrom('assignment').selectAll().where('type', 'in', types);
  if (f.userId) q = q.where('actor_id', 'in', [f.userId, ...(await groupsOfUser(db, f.userId))]);
  if (inherited !== undefined) q = q.where('inherited', '=', inherited ? 1 : 0);
  if (f.domainId) q = q.where('target_id', '=', f.domainId);
  if (projectIds) {
    // only what can reach the projects of interest: assignments on them, on their ancestors, on their domain
    const sources = new Set(projectIds);
    for (const id of projectIds) for (const a of await projectAncestors(db, id)) sources.add(a);
    q = q.where('target_id', 'in', [...sources]);
  }
  const rows = await q.orderBy('type').orderBy('actor_id').orderBy('target_id').orderBy('role_id').orderBy('inherited').execute();
  if (rows.length === 0) return [];

  // group members, for group assignments (all members, or just the user filtered on)
  const groupIds = [...new Set(rows.filter((r) => r.type.startsWith('Group')).map((r) => r.actor_id))];
  const members = new Map<string, string[]>();
  if (groupIds.length && !f.userId) {
    const memberships = await db.selectFrom('user_group_membership').select(['user_id', 'group_id'])
      .where('group_id', 'in', groupIds).orderBy('user_id').execute();
    for (const m of memberships) members.set(m.group_id, [...(members.get(m.group_id) ?? []), m.user_id]);
  }
  const tree = rows.some((r) => Number(r.inherited) === 1) ? await projectTree(db) : undefined;
  const wanted = projectIds ? new Set(projectIds) : undefined;

  const expanded: ListedAssignment[] = [];
  for (const row of rows) {
    const source = storedAssignment(row);
    const users = source.actor === 'user' ? [source.actorId] : f.userId ? [f.userId] : (members.get(source.actorId) ?? []);
    let scopes: AssignmentScope[];
    if (source.inherited) {
      const reached = 'domainId' in source.scope ? tree!.inDomain(source.scope.domainId)
        : 'projectId' in source.scope ? tree!.below(source.scope.projectId)
        : [];
      scopes = reached.map((projectId) => ({ projectId }));
    } else {
      scopes = [source.scope];
    }
    if (wanted) scopes = scopes.filter((s) => 'projectId' in s && wanted.has(s.projectId));
    for (const userId of users) {
      for (const scope of scopes) {
        expanded.push({
          roleId: source.roleId, userId, scope, inherited: source.inherited, source,
          ...(source.actor === 'group' ? { viaGroupId: source.actorId } : {}),
        });
      }
    }
  }
  return finishEffective(db, expanded, f.roleId);
}

/** Adds implied roles, drops domain-specific roles, then applies the role filter. */
async function finishEffective(db: IdentityDb, entries: ListedAssignment[], roleId: string | undefined): Promise<ListedAssignment[]> {
  const implications = new Map<string, string[]>();
  for (const r of await db.selectFrom('implied_role').selectAll().orderBy('prior_role_id').orderBy('implied_role_id').execute()) {
    implications.set(r.prior_role_id, [...(implications.get(r.prior_role_id) ?? []), r.implied_role_id]);
  }
  const withImplied: ListedAssignment[] = [];
  for (const entry of entries) {
    withImplied.push(entry);
    // breadth first from the assigned role; each implied role once, with the role that implies it
    const seen = new Set([entry.roleId]);
    const queue = [entry.roleId];
    while (queue.length) {
      const prior = queue.shift()!;
      for (const implied of implications.get(prior) ?? []) {
        if (seen.has(implied)) continue;
        seen.add(implied);
        queue.push(implied);
        withImplied.push({ ...entry, roleId: implied, priorRoleId: prior });
      }
    }
  }
  const roleIds = [...new Set(withImplied.map((e) => e.roleId))];
  const globalRoles = new Set(roleIds.length === 0 ? [] : (await db.selectFrom('role').select('id')
    .where('id', 'in', roleIds).where('domain_id', '=', GLOBAL_ROLE_DOMAIN).execute()).map((r) => r.id));
  const seen = new Set<string>();
  return withImplied.filter((e) => {
    if (!globalRoles.has(e.roleId)) return false;
    if (roleId !== undefined && e.roleId !== roleId) return false;
    const key = JSON.stringify([e.roleId, e.userId, e.scope, e.inherited, e.source, e.viaGroupId, e.priorRoleId]);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
