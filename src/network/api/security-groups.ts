// /v2.0/security-groups: create, list (making the caller's `default` group first, as Neutron
// does), show, update, delete, each shown with its rules inline. Upstream's guards: nobody
// names a group 'default' (409 SecurityGroupDefaultAlreadyExists), the default group keeps its
// name (409 SecurityGroupCannotUpdateDefault) and only an admin removes it (409
// SecurityGroupCannotRemoveDefault), a group ports use is not deleted (409 SecurityGroupInUse).
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { RequestContext } from '../../core/auth/index.ts';
import { typedError } from '../../core/http/index.ts';
import type { NetDb, NetTx } from '../db/database.ts';
import type { SecurityGroupTable } from '../db/schema.ts';
import { deleteTags, tagsFor } from '../db/tags.ts';
import { checkQuota } from '../quota/enforce.ts';
import { publishSecurityGroupUpdated } from '../agent/events.ts';
import {
  DEFAULT_SG_NAME, defaultSecurityGroupId, ensureDefaultSecurityGroup, insertSecurityGroup, templateRuleCount,
} from '../secgroups/default-group.ts';
import { booleanAttribute, rejectUnknown, securityGroupNotFound, stringAttribute } from '../secgroups/rules.ts';
import {
  allowed, authorize, badRequest, contextOf, isAdmin, listResponse, now, parseListQuery, selectFields, standardView, type NetworkDeps,
} from './common.ts';
import { RULE_TAG_TYPE, bumpGroup, owningProject, ruleViews, visibleGroup } from './security-group-rules.ts';

export const GROUP_TAG_TYPE = 'security_group';

const POST_ATTRIBUTES = ['name', 'description', 'stateful', 'project_id', 'tenant_id'];
const PUT_ATTRIBUTES = ['name', 'description', 'stateful'];
const READ_ONLY = ['id', 'project_id', 'tenant_id', 'security_group_rules', 'shared', 'created_at', 'updated_at', 'revision_number', 'tags'];

const defaultAlreadyExists = () => typedError(409, 'SecurityGroupDefaultAlreadyExists', 'Default security group already exists.');
const cannotUpdateDefault = () => typedError(409, 'SecurityGroupCannotUpdateDefault', 'Updating default security group not allowed.');
const cannotRemoveDefault = () => typedError(409, 'SecurityGroupCannotRemoveDefault', 'Insufficient rights for removing default security group.');
const securityGroupInUse = (id: string) => typedError(409, 'SecurityGroupInUse', `Security Group ${id} in use.`);

/** Neutron's name_not_default validator (any case). */
function groupName(body: Record<string, unknown>, fallback: string): string {
  const name = stringAttribute(body, 'name', fallback);
  if (body.name !== undefined && name.toLowerCase() === DEFAULT_SG_NAME) throw defaultAlreadyExists();
  return name;
}

/** Security groups with their rules inline. */
export async function groupViews(db: NetDb | NetTx, groups: SecurityGroupTable[]): Promise<Record<string, unknown>[]> {
  if (groups.length === 0) return [];
  const few = groups.length <= 500;
  let q = db.selectFrom('security_group_rule').selectAll();
  if (few) q = q.where('security_group_id', 'in', groups.map((g) => g.id));
  const rules = await ruleViews(db, await q.orderBy('created_at').orderBy('id').execute());
  const byGroup = new Map<string, Record<string, unknown>[]>();
  for (const r of rules) {
    const list = byGroup.get(r.security_group_id as string) ?? [];
    list.push(r);
    byGroup.set(r.security_group_id as string, list);
  }
  const tags = await tagsFor(db, GROUP_TAG_TYPE, few ? groups.map((g) => g.id) : undefined);
  return groups.map((g) => ({
    id: g.id,
    name: g.name,
    description: g.description,
    stateful: Number(g.stateful) === 1,
    shared: false,
    project_id: g.project_id,
    tenant_id: g.project_id,
    security_group_rules: byGroup.get(g.id) ?? [],
    ...standardView(g, tags.get(g.id) ?? []),
  }));
}

/** Makes a project's default group unless it has one (reads first, so the usual case writes nothing). */
export async function ensureDefaultGroupOf(deps: NetworkDeps, projectId: string): Promise<string> {
  const existing = await deps.data.db.selectFrom('default_security_group').select('security_group_id')
    .where('project_id', '=', projectId).executeTakeFirst();
  if (existing) return existing.security_group_id;
  return deps.data.write((tx) => ensureDefaultSecurityGroup(tx, projectId));
}

/** The project whose default group a listing makes: the one filtered on when the caller may, else the caller's. */
function listingProject(req: FastifyRequest, ctx: RequestContext): string | undefined {
  const query = req.query as Record<string, unknown>;
  const filter = [query.project_id ?? query.tenant_id].flat()[0];
  if (typeof filter === 'string' && filter && (filter === ctx.projectId || isAdmin(ctx))) return filter;
  return ctx.projectId;
}

async function findGroup(db: NetDb | NetTx, req: FastifyRequest, deps: NetworkDeps, id: string): Promise<SecurityGroupTable> {
  const ctx = contextOf(req);
  const group = await visibleGroup(db, ctx, id);
  if (!group || !allowed(req, deps, 'get_security_group', { project_id: group.project_id })) throw securityGroupNotFound(id);
  return group;
}

function groupBodies(body: unknown): { bulk: boolean; items: Record<string, unknown>[] } {
  const b = (body ?? {}) as Record<string, unknown>;
  if (Array.isArray(b.security_groups)) {
    const items = b.security_groups.map((i) => (i as Record<string, unknown>)?.security_group ?? i);
    if (items.length === 0 || items.some((i) => i === null || typeof i !== 'object' || Array.isArray(i))) {
      throw badRequest('Resource body required: the request body must contain a list of security_group objects.');
    }
    return { bulk: true, items: items as Record<string, unknown>[] };
  }
  const one = b.security_group;
  if (one === null || typeof one !== 'object' || Array.isArray(one)) {
    throw badRequest("Resource body required: the request body must contain an object 'security_group'.");
  }
  return { bulk: false, items: [one as Record<string, unknown>] };
}

export function registerSecurityGroups(app: FastifyInstance, deps: NetworkDeps): void {
  app.post('/v2.0/security-groups', async (req, reply) => {
    const ctx = contextOf(req);
    const { bulk, items } = groupBodies(req.body);
    const wanted = items.map((body) => {
      rejectUnknown(body, POST_ATTRIBUTES);
      const projectId = owningProject(ctx, body);
      authorize(req, deps, 'create_security_group', { project_id: projectId });
      return {
        projectId,
        name: groupName(body, ''),
        description: stringAttribute(body, 'description', ''),
        stateful: body.stateful === undefined ? true : booleanAttribute(body.stateful),
      };
    });
    for (const projectId of new Set(wanted.map((w) => w.projectId))) await ensureDefaultGroupOf(deps, projectId);
    const views = await deps.data.write(async (tx) => {
      const ids: string[] = [];
      for (const group of wanted) {
        await checkQuota(tx, deps, group.projectId, 'security_group');
        await checkQuota(tx, deps, group.projectId, 'security_group_rule', templateRuleCount(false));
        ids.push(await insertSecurityGroup(tx, group));
      }
      const rows = await tx.selectFrom('security_group').selectAll().where('id', 'in', ids).execute();
      const order = new Map(ids.map((id, i) => [id, i]));
      return groupViews(tx, rows.sort((a, b) => order.get(a.id)! - order.get(b.id)!));
    });
    reply.code(201);
    return bulk ? { security_groups: views } : { security_group: views[0] };
  });

  app.get('/v2.0/security-groups', async (req) => {
    const ctx = contextOf(req);
    const q = parseListQuery(req.query as Record<string, unknown>);
    const project = listingProject(req, ctx);
    if (project) await ensureDefaultGroupOf(deps, project);
    let query = deps.data.db.selectFrom('security_group').selectAll();
    if (!isAdmin(ctx)) query = query.where('project_id', '=', ctx.projectId ?? '');
    const groups = (await query.execute()).filter((g) => allowed(req, deps, 'get_security_group', { project_id: g.project_id }));
    return listResponse(req, deps, 'security_groups', await groupViews(deps.data.db, groups), q);
  });

  app.get<{ Params: { id: string } }>('/v2.0/security-groups/:id', async (req) => {
    const group = await findGroup(deps.data.db, req, deps, req.params.id);
    const [view] = await groupViews(deps.data.db, [group]);
    return { security_group: selectFields(view!, parseListQuery(req.query as Record<string, unknown>).fields) };
  });

  app.put<{ Params: { id: string } }>('/v2.0/security-groups/:id', async (req) => {
    const body = (req.body as Record<string, unknown> | undefined)?.security_group;
    if (body === null || typeof body !== 'object' || Array.isArray(body)) {
      throw badRequest("Resource body required: the request body must contain an object 'security_group'.");
    }
    const changes = body as Record<string, unknown>;
    for (const key of Object.keys(changes)) if (READ_ONLY.includes(key)) throw typedError(400, 'HTTPBadRequest', `Cannot update read-only attribute ${key}`);
    rejectUnknown(changes, PUT_ATTRIBUTES);
    const name = changes.name === undefined ? undefined : groupName(changes, '');
    const description = changes.description === undefined ? undefined : stringAttribute(changes, 'description', '');
    const stateful = changes.stateful === undefined ? undefined : booleanAttribute(changes.stateful);
    const view = await deps.data.write(async (tx) => {
      const group = await findGroup(tx, req, deps, req.params.id);
      authorize(req, deps, 'update_security_group', { project_id: group.project_id });
      if (stateful !== undefined && stateful !== (Number(group.stateful) === 1)) {
        const used = await tx.selectFrom('port_security_group').select('port_id').where('security_group_id', '=', group.id).executeTakeFirst();
        if (used) throw securityGroupInUse(group.id);
      }
      if (name !== undefined && group.name === DEFAULT_SG_NAME) throw cannotUpdateDefault();
      await tx.updateTable('security_group').set({
        ...(name !== undefined ? { name } : {}),
        ...(description !== undefined ? { description } : {}),
        ...(stateful !== undefined ? { stateful: stateful ? 1 : 0 } : {}),
        updated_at: now(),
        revision_number: Number(group.revision_number) + 1,
      }).where('id', '=', group.id).execute();
      const fresh = await tx.selectFrom('security_group').selectAll().where('id', '=', group.id).executeTakeFirstOrThrow();
      return (await groupViews(tx, [fresh]))[0];
    });
    await publishSecurityGroupUpdated(deps, req.params.id);
    return { security_group: view };
  });

  app.delete<{ Params: { id: string } }>('/v2.0/security-groups/:id', async (req, reply) => {
    const ctx = contextOf(req);
    const referring = await deps.data.write(async (tx) => {
      const group = await findGroup(tx, req, deps, req.params.id);
      authorize(req, deps, 'delete_security_group', { project_id: group.project_id });
      const used = await tx.selectFrom('port_security_group').select('port_id').where('security_group_id', '=', group.id).executeTakeFirst();
      if (used) throw securityGroupInUse(group.id);
      const isDefault = group.name === DEFAULT_SG_NAME || (await defaultSecurityGroupId(tx, group.project_id)) === group.id;
      if (isDefault && !isAdmin(ctx)) throw cannotRemoveDefault();
      // Rules elsewhere that name this group as their remote go with it (Neutron's cascade).
      const rules = await tx.selectFrom('security_group_rule').select(['id', 'security_group_id'])
        .where((eb) => eb.or([eb('security_group_id', '=', group.id), eb('remote_group_id', '=', group.id)])).execute();
      for (const rule of rules) await deleteTags(tx, RULE_TAG_TYPE, rule.id);
      const others = [...new Set(rules.map((r) => r.security_group_id).filter((id) => id !== group.id))];
      for (const other of others) await bumpGroup(tx, other);
      await tx.deleteFrom('security_group_rule').where('remote_group_id', '=', group.id).execute();
      await tx.deleteFrom('security_group_rule').where('security_group_id', '=', group.id).execute();
      await tx.deleteFrom('default_security_group').where('security_group_id', '=', group.id).execute();
      await tx.deleteFrom('security_group').where('id', '=', group.id).execute();
      await deleteTags(tx, GROUP_TAG_TYPE, group.id);
      return others;
    });
    await publishSecurityGroupUpdated(deps, req.params.id, true);
    for (const other of referring) await publishSecurityGroupUpdated(deps, other);
    reply.code(204);
    return reply.send();
  });
}
