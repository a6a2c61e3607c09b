// Role inference rules: /v3/roles/{prior}/implies[/{implied}] and /v3/role_inferences. A user
// holding the prior role holds the implied one too (transitively; see effective-roles.ts).
// As Keystone: a global role may not imply a domain-specific one, and the roles named in
// PROHIBITED_IMPLIED_ROLES may never be implied (both 403). A rule that closes a cycle is
// accepted, as Keystone accepts it; expanding implications visits each role once.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { HttpError, notFound } from '../../core/http/index.ts';
import { getRoleRow } from '../db/lookups.ts';
import type { RoleTable } from '../db/schema.ts';
import { authorize, baseUrl, selfLink, uniquely, type IdentityDeps } from './common.ts';
import { isDomainRole, roleNotFound } from './roles.ts';

/** Keystone's [assignment] prohibited_implied_role default: admin is never implied. */
export const PROHIBITED_IMPLIED_ROLES = ['admin'];

type Params = { prior_role_id: string; implied_role_id: string };

export function registerImpliedRoles(app: FastifyInstance, deps: IdentityDeps): void {
  const db = () => deps.store.db;
  const brief = (req: FastifyRequest, r: RoleTable) => ({ id: r.id, name: r.name, links: selfLink(req, deps, `roles/${r.id}`) });
  const ruleLink = (req: FastifyRequest, prior: string, implied: string) => selfLink(req, deps, `roles/${prior}/implies/${implied}`);

  const role = async (id: string) => {
    const row = await getRoleRow(db(), id);
    if (!row) throw roleNotFound(id);
    return row;
  };
  const roleTarget = (r: RoleTable) => ({ id: r.id, domain_id: isDomainRole(r) ? r.domain_id : null });
  /** Both roles, then the policy check; 404 when a role is missing. */
  const pair = async (req: FastifyRequest<{ Params: Params }>, rule: string) => {
    const prior = await role(req.params.prior_role_id);
    const implied = await role(req.params.implied_role_id);
    authorize(req, deps, rule, { target: { prior_role: roleTarget(prior), implied_role: roleTarget(implied) } });
    return { prior, implied };
  };
  const existing = async (prior: RoleTable, implied: RoleTable) => {
    const found = await db().selectFrom('implied_role').select('prior_role_id')
      .where('prior_role_id', '=', prior.id).where('implied_role_id', '=', implied.id).executeTakeFirst();
    if (!found) throw notFound(`${prior.id} does not imply ${implied.id}.`);
  };

  app.get<{ Params: { prior_role_id: string } }>('/v3/roles/:prior_role_id/implies', async (req) => {
    const prior = await role(req.params.prior_role_id);
    authorize(req, deps, 'identity:list_implied_roles', { target: { prior_role: roleTarget(prior) } });
    const implied = await db().selectFrom('implied_role').innerJoin('role', 'role.id', 'implied_role.implied_role_id')
      .selectAll('role').where('implied_role.prior_role_id', '=', prior.id).orderBy('role.name').execute();
    return {
      role_inference: { prior_role: brief(req, prior), implies: implied.map((r) => brief(req, r)) },
      links: selfLink(req, deps, `roles/${prior.id}/implies`),
    };
  });

  app.put<{ Params: Params }>('/v3/roles/:prior_role_id/implies/:implied_role_id', async (req, reply) => {
    const { prior, implied } = await pair(req, 'identity:create_implied_role');
    if (PROHIBITED_IMPLIED_ROLES.includes(implied.name)) throw new HttpError(403, `${implied.id} cannot be an implied roles.`);
    if (!isDomainRole(prior) && isDomainRole(implied)) throw new HttpError(403, 'Global role cannot imply a domain-specific role.');
    await uniquely('implied_role', () =>
      deps.store.write((tx) => tx.insertInto('implied_role').values({ prior_role_id: prior.id, implied_role_id: implied.id }).execute()),
    );
    reply.status(201);
    return { role_inference: { prior_role: brief(req, prior), implies: brief(req, implied) }, links: ruleLink(req, prior.id, implied.id) };
  });

  app.get<{ Params: Params }>('/v3/roles/:prior_role_id/implies/:implied_role_id', { exposeHeadRoute: false }, async (req) => {
    const { prior, implied } = await pair(req, 'identity:get_implied_role');
    await existing(prior, implied);
    return { role_inference: { prior_role: brief(req, prior), implies: brief(req, implied) }, links: ruleLink(req, prior.id, implied.id) };
  });

  app.head<{ Params: Params }>('/v3/roles/:prior_role_id/implies/:implied_role_id', async (req, reply) => {
    const { prior, implied } = await pair(req, 'identity:check_implied_role');
    await existing(prior, implied);
    reply.status(204).send();
  });

  app.delete<{ Params: Params }>('/v3/roles/:prior_role_id/implies/:implied_role_id', async (req, reply) => {
    const { prior, implied } = await pair(req, 'identity:delete_implied_role');
    const result = await deps.store.write((tx) =>
      tx.deleteFrom('implied_role').where('prior_role_id', '=', prior.id).where('implied_role_id', '=', implied.id).executeTakeFirst());
    if (Number(result.numDeletedRows) === 0) throw notFound(`${prior.id} does not imply ${implied.id}.`);
    reply.status(204).send();
  });

  app.get('/v3/role_inferences', async (req) => {
    authorize(req, deps, 'identity:list_role_inference_rules');
    const rules = await db().selectFrom('implied_role').selectAll().execute();
    const ids = [...new Set(rules.flatMap((r) => [r.prior_role_id, r.implied_role_id]))];
    const roles = new Map((ids.length ? await db().selectFrom('role').selectAll().where('id', 'in', ids).execute() : []).map((r) => [r.id, r]));
    const full = (r: RoleTable) => ({ ...brief(req, r), description: r.description });
    const byPrior = new Map<string, RoleTable[]>();
    for (const rule of rules) {
      const implied = roles.get(rule.implied_role_id);
      if (!implied || !roles.has(rule.prior_role_id)) continue;
      byPrior.set(rule.prior_role_id, [...(byPrior.get(rule.prior_role_id) ?? []), implied]);
    }
    const inferences = [...byPrior.entries()]
      .map(([priorId, implied]) => ({ prior: roles.get(priorId)!, implied }))
      .sort((a, b) => a.prior.name.localeCompare(b.prior.name) || a.prior.id.localeCompare(b.prior.id))
      .map(({ prior, implied }) => ({
        prior_role: full(prior),
        implies: implied.sort((a, b) => a.name.localeCompare(b.name)).map(full),
      }));
    return { role_inferences: inferences, links: { self: `${baseUrl(req, deps)}/v3/role_inferences` } };
  });
}
