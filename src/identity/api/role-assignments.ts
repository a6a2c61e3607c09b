// GET /v3/role_assignments: role assignments as stored or, with ?effective, as they take effect
// (see assignment/list-assignments.ts), filtered by user.id, group.id, role.id,
// scope.project.id (with include_subtree), scope.domain.id, scope.system=all and
// scope.OS-INHERIT:inherited_to=projects, with names when include_names is given. Every entry
// links to the grant behind it; an entry gained through a group links to the membership, and
// one gained through an implied role links to the inference rule (links.prior_role).
// A domain-scoped caller sees only the assignments on its domain and its domain's projects.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { badRequest, notFound } from '../../core/http/index.ts';
import { GLOBAL_ROLE_DOMAIN } from '../db/schema.ts';
import { getProjectRow } from '../db/lookups.ts';
import { listAssignments, type AssignmentFilter, type ListedAssignment, type StoredAssignment } from '../assignment/list-assignments.ts';
import { authorize, baseUrl, collection, queryBool, type IdentityDeps } from './common.ts';

type Query = Record<string, string | undefined>;

/** The filter a query asks for; 400 for the combinations Keystone refuses. */
function filterOf(q: Query): AssignmentFilter {
  const given = (k: string) => q[k] !== undefined && q[k] !== '';
  const effective = queryBool(q.effective) ?? false;
  const includeSubtree = queryBool(q.include_subtree) ?? false;
  const inheritedTo = q['scope.OS-INHERIT:inherited_to'];
  const inherited = inheritedTo === undefined ? undefined : inheritedTo === 'projects';
  if (includeSubtree && !given('scope.project.id')) {
    throw badRequest('scope.project.id must be specified if include_subtree is also specified');
  }
  if (given('scope.domain.id') && given('scope.project.id')) throw badRequest('Specify a domain or project, not both');
  if (given('scope.domain.id') && given('scope.system')) throw badRequest('Specify system or domain, not both');
  if (given('scope.project.id') && given('scope.system')) throw badRequest('Specify system or project, not both');
  if (given('user.id') && given('group.id')) throw badRequest('Specify a user or group, not both');
  if (effective && given('group.id')) throw badRequest('Combining effective and group filter will always result in an empty list.');
  if (effective && inherited && given('scope.domain.id')) {
    throw badRequest('Combining effective, domain and inherited filters will always result in an empty list.');
  }
  return {
    userId: q['user.id'] || undefined,
    groupId: q['group.id'] || undefined,
    roleId: q['role.id'] || undefined,
    projectId: q['scope.project.id'] || undefined,
    includeSubtree,
    domainId: q['scope.domain.id'] || undefined,
    // as Keystone, any value but 'all' is no system filter
    system: q['scope.system'] === 'all',
    inherited,
    effective,
  };
}

/** The grant URL (after /v3) of a stored assignment. */
function grantPath(a: StoredAssignment, roleId = a.roleId): string {
  const target = 'projectId' in a.scope ? `/projects/${a.scope.projectId}` : 'domainId' in a.scope ? `/domains/${a.scope.domainId}` : '/system';
  const path = `${target}/${a.actor}s/${a.actorId}/roles/${roleId}`;
  return a.inherited ? `/OS-INHERIT${path}/inherited_to_projects` : path;
}

interface Names {
  users: Map<string, { name: string; domain_id: string }>;
  groups: Map<string, { name: string; domain_id: string }>;
  /** projects and domains */
  projects: Map<string, { name: string; domain_id: string; is_domain: number }>;
  roles: Map<string, { name: string; domain_id: string }>;
}

/** Everything the entries name, loaded at once: for include_names and domain-scoped filtering. */
async function loadNames(deps: IdentityDeps, entries: ListedAssignment[]): Promise<Names> {
  const db = deps.store.db;
  const ids = (pick: (e: ListedAssignment) => (string | undefined)[]) => [...new Set(entries.flatMap(pick).filter((x): x is string => !!x))];
  const userIds = ids((e) => [e.userId]);
  const groupIds = ids((e) => [e.groupId]);
  const roleIds = ids((e) => [e.roleId]);
  const users = userIds.length ? await db.selectFrom('user').select(['id', 'name', 'domain_id']).where('id', 'in', userIds).execute() : [];
  const groups = groupIds.length ? await db.selectFrom('user_group').select(['id', 'name', 'domain_id']).where('id', 'in', groupIds).execute() : [];
  const roles = roleIds.length ? await db.selectFrom('role').select(['id', 'name', 'domain_id']).where('id', 'in', roleIds).execute() : [];
  const scopeIds = ids((e) => ['projectId' in e.scope ? e.scope.projectId : 'domainId' in e.scope ? e.scope.domainId : undefined]);
  const scopeRows = scopeIds.length ? await db.selectFrom('project').select(['id', 'name', 'domain_id', 'is_domain']).where('id', 'in', scopeIds).execute() : [];
  const projects = new Map(scopeRows.map((p) => [p.id, p]));
  // the domains the users, groups, projects and roles belong to
  const domainIds = [...new Set([...users, ...groups, ...scopeRows, ...roles].map((r) => r.domain_id))]
    .filter((id) => id !== GLOBAL_ROLE_DOMAIN && !projects.has(id));
  if (domainIds.length) {
    for (const d of await db.selectFrom('project').select(['id', 'name', 'domain_id', 'is_domain']).where('id', 'in', domainIds).execute()) projects.set(d.id, d);
  }
  return {
    users: new Map(users.map((u) => [u.id, u])),
    groups: new Map(groups.map((g) => [g.id, g])),
    projects,
    roles: new Map(roles.map((r) => [r.id, r])),
  };
}

function render(req: FastifyRequest, deps: IdentityDeps, e: ListedAssignment, names: Names | undefined) {
  const v3 = `${baseUrl(req, deps)}/v3`;
  const domainOf = (id: string) => ({ id, name: names?.projects.get(id)?.name ?? '' });
  const actorOf = (id: string, found: { name: string; domain_id: string } | undefined) =>
    names ? { id, name: found?.name ?? '', domain: found ? domainOf(found.domain_id) : { id: '', name: '' } } : { id };

  const entry: Record<string, unknown> = {};
  let scope: Record<string, unknown>;
  if ('projectId' in e.scope) {
    const p = names?.projects.get(e.scope.projectId);
    scope = { project: names ? { id: e.scope.projectId, name: p?.name ?? '', domain: domainOf(p?.domain_id ?? '') } : { id: e.scope.projectId } };
  } else if ('domainId' in e.scope) {
    scope = { domain: names ? domainOf(e.scope.domainId) : { id: e.scope.domainId } };
  } else {
    scope = { system: { all: true } };
  }
  if (e.inherited) scope['OS-INHERIT:inherited_to'] = 'projects';
  entry.scope = scope;
  if (e.userId !== undefined) entry.user = actorOf(e.userId, names?.users.get(e.userId));
  else entry.group = actorOf(e.groupId!, names?.groups.get(e.groupId!));
  const role = names?.roles.get(e.roleId);
  entry.role = names
    ? { id: e.roleId, name: role?.name ?? '', ...(role && role.domain_id !== GLOBAL_ROLE_DOMAIN ? { domain: domainOf(role.domain_id) } : {}) }
    : { id: e.roleId };
  // An implied role's entry links to the grant of the role it came from.
  const links: Record<string, string> = { assignment: `${v3}${grantPath(e.source)}` };
  if (e.viaGroupId) links.membership = `${v3}/groups/${e.viaGroupId}/users/${e.userId}`;
  if (e.priorRoleId) links.prior_role = `${v3}/roles/${e.priorRoleId}/implies/${e.roleId}`;
  entry.links = links;
  return entry;
}

export function registerRoleAssignments(app: FastifyInstance, deps: IdentityDeps): void {
  app.get('/v3/role_assignments', async (req) => {
    const q = req.query as Query;
    if (queryBool(q.include_subtree)) {
      const projectId = q['scope.project.id'];
      const project = projectId ? await getProjectRow(deps.store.db, projectId) : undefined;
      if (projectId && !project) throw notFound(`Could not find project: ${projectId}.`);
      authorize(req, deps, 'identity:list_role_assignments_for_tree', project
        ? { target: { project: { id: project.id, domain_id: project.domain_id }, domain_id: project.domain_id } }
        : {});
    } else {
      const domainId = req.context?.domainId;
      authorize(req, deps, 'identity:list_role_assignments', domainId ? { target: { domain_id: domainId } } : {});
    }
    const filter = filterOf(q);
    let entries = await listAssignments(deps.store.db, filter);
    const includeNames = queryBool(q.include_names) ?? false;
    const scopedDomain = req.context?.domainId;
    const names = includeNames || scopedDomain ? await loadNames(deps, entries) : undefined;
    if (scopedDomain) {
      entries = entries.filter((e) =>
        ('domainId' in e.scope && e.scope.domainId === scopedDomain)
        || ('projectId' in e.scope && names!.projects.get(e.scope.projectId)?.domain_id === scopedDomain));
    }
    return collection(req, deps, 'role_assignments', entries.map((e) => render(req, deps, e, includeNames ? names : undefined)));
  });
}
