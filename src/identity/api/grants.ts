// Role grants named by URL: a user or group gets a role on a project, a domain or the system
// (/v3/{projects|domains}/{id}/{users|groups}/{id}/roles[/{role_id}], /v3/system/{users|groups}/
// {id}/roles[/{role_id}]), or a role inherited by the projects below a domain or project
// (/v3/OS-INHERIT/.../roles/{role_id}/inherited_to_projects). PUT grants (204, idempotent),
// GET or HEAD checks (204 or 404), DELETE removes and revokes the affected tokens (see
// assignment/grants.ts), GET on .../roles lists the granted roles.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { HttpError, badRequest, notFound } from '../../core/http/index.ts';
import { isUniqueViolation } from '../../core/db/index.ts';
import { getDomainRow, getGroupRow, getProjectRow, getRoleRow, getUserRow } from '../db/lookups.ts';
import type { RoleTable } from '../db/schema.ts';
import { addGrant, grantedRoleIds, hasGrant, removeGrant, type ActorKind, type Grant, type TargetKind } from '../assignment/grants.ts';
import { authorize, collection, type IdentityDeps } from './common.ts';
import { isDomainRole, roleNotFound, roleView } from './roles.ts';

interface GrantRoute {
  actor: ActorKind;
  target: TargetKind;
  inherited: boolean;
  /** URL of the list of granted roles */
  list: string;
  /** URL of one grant */
  item: string;
}

type Params = { target_id?: string; actor_id: string; role_id?: string };
type Action = 'create' | 'check' | 'list' | 'revoke';

function grantRoutes(): GrantRoute[] {
  const routes: GrantRoute[] = [];
  for (const actor of ['user', 'group'] as const) {
    for (const target of ['project', 'domain'] as const) {
      const tail = `${target}s/:target_id/${actor}s/:actor_id/roles`;
      routes.push({ actor, target, inherited: false, list: `/v3/${tail}`, item: `/v3/${tail}/:role_id` });
      routes.push({
        actor, target, inherited: true,
        list: `/v3/OS-INHERIT/${tail}/inherited_to_projects`,
        item: `/v3/OS-INHERIT/${tail}/:role_id/inherited_to_projects`,
      });
    }
    routes.push({ actor, target: 'system', inherited: false, list: `/v3/system/${actor}s/:actor_id/roles`, item: `/v3/system/${actor}s/:actor_id/roles/:role_id` });
  }
  return routes;
}

/** The policy rule of an action on a grant route (Keystone names system grants apart). */
function ruleOf(route: GrantRoute, action: Action): string {
  if (route.target !== 'system') return action === 'list' ? 'identity:list_grants' : `identity:${action}_grant`;
  return action === 'list' ? `identity:list_system_grants_for_${route.actor}` : `identity:${action}_system_grant_for_${route.actor}`;
}

export function registerGrants(app: FastifyInstance, deps: IdentityDeps): void {
  const db = () => deps.store.db;

  /**
   * Looks up what the URL names (404 for the first thing missing: role, actor, target), then
   * checks policy against it. A grant can be removed for a user or group that no longer exists.
   */
  const resolve = async (req: FastifyRequest<{ Params: Params }>, route: GrantRoute, action: Action) => {
    const { actor_id: actorId, target_id: targetId = '', role_id: roleId } = req.params;
    const policyTarget: Record<string, unknown> = {};
    let role: RoleTable | undefined;
    if (roleId !== undefined) {
      role = await getRoleRow(db(), roleId);
      if (!role) throw roleNotFound(roleId);
      policyTarget.role = { id: role.id, name: role.name, domain_id: isDomainRole(role) ? role.domain_id : null };
    }
    const actorRow = route.actor === 'user' ? await getUserRow(db(), actorId) : await getGroupRow(db(), actorId);
    if (!actorRow && action !== 'revoke') throw notFound(`Could not find ${route.actor}: ${actorId}.`);
    policyTarget[route.actor] = actorRow ? { id: actorRow.id, domain_id: actorRow.domain_id } : { id: actorId };
    let projectDomainId: string | undefined;
    if (route.target === 'project') {
      const project = await getProjectRow(db(), targetId);
      if (!project) throw notFound(`Could not find project: ${targetId}.`);
      projectDomainId = project.domain_id;
      policyTarget.project = { id: project.id, domain_id: project.domain_id };
    } else if (route.target === 'domain') {
      const domain = await getDomainRow(db(), targetId);
      if (!domain) throw notFound(`Could not find domain: ${targetId}.`);
      policyTarget.domain = { id: domain.id };
    }
    authorize(req, deps, ruleOf(route, action), { target: policyTarget });
    const grant = { actor: route.actor, actorId, target: route.target, targetId, inherited: route.inherited };
    return { grant, role, projectDomainId };
  };

  for (const route of grantRoutes()) {
    app.get<{ Params: Params }>(route.list, async (req) => {
      const { grant } = await resolve(req, route, 'list');
      const ids = await grantedRoleIds(db(), grant);
      const rows = ids.length ? await db().selectFrom('role').selectAll().where('id', 'in', ids).orderBy('name').execute() : [];
      return collection(req, deps, 'roles', rows.map((r) => roleView(req, deps, r)));
    });

    app.put<{ Params: Params }>(route.item, async (req, reply) => {
      const { grant, role, projectDomainId } = await resolve(req, route, 'create');
      if (isDomainRole(role!)) {
        if (route.target === 'system') {
          throw badRequest(`Role ${role!.id} is a domain-specific role. Unable to use a domain-specific role in a system assignment.`);
        }
        if (projectDomainId !== undefined && projectDomainId !== role!.domain_id) {
          throw new HttpError(403, `Project ${grant.targetId} must be in the same domain as the role ${role!.id} being assigned.`);
        }
      }
      try {
        await deps.store.write((tx) => addGrant(tx, { ...grant, roleId: role!.id }));
      } catch (err) {
        if (!isUniqueViolation(err)) throw err; // the same grant made at the same moment: already there
      }
      reply.status(204).send();
    });

    app.get<{ Params: Params }>(route.item, async (req, reply) => {
      const { grant, role } = await resolve(req, route, 'check');
      const full: Grant = { ...grant, roleId: role!.id };
      if (!(await hasGrant(db(), full))) throw assignmentNotFound(full);
      reply.status(204).send();
    });

    app.delete<{ Params: Params }>(route.item, async (req, reply) => {
      const { grant, role } = await resolve(req, route, 'revoke');
      const full: Grant = { ...grant, roleId: role!.id };
      const removed = await deps.store.write((tx) => removeGrant(tx, full, deps.tokens.revokeMatching));
      if (!removed) throw assignmentNotFound(full);
      reply.status(204).send();
    });
  }
}

const assignmentNotFound = (g: Grant) =>
  notFound(`Could not find role assignment with role: ${g.roleId}, user or group: ${g.actorId}, project, domain, or system: ${g.target === 'system' ? 'system' : g.targetId}.`);
