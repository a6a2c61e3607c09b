// /v2.0/security-group-rules: create (one, or a bulk of one group's rules), list, show,
// update (description only), delete. A rule's group must be the caller's (admins: any), its
// remote group likewise; a rule Neutron would consider equal to one the group has is a 409
// SecurityGroupRuleExists naming that rule, settled by the unique (group, fingerprint) index
// when two requests race.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { RequestContext } from '../../core/auth/index.ts';
import { typedError } from '../../core/http/index.ts';
import type { NetDb, NetTx } from '../db/database.ts';
import type { SecurityGroupRuleTable, SecurityGroupTable } from '../db/schema.ts';
import { deleteTags, tagsFor } from '../db/tags.ts';
import { checkQuota } from '../quota/enforce.ts';
import { publishSecurityGroupUpdated } from '../agent/events.ts';
import {
  duplicateRuleInPost, hasRowLocks, normalizeRule, normalizedCidr, rejectUnknown, ruleFingerprint, ruleKey, ruleWithFingerprint,
  securityGroupNotFound, securityGroupRuleExists, securityGroupRuleNotFound, stringAttribute, withUniqueSavepoint,
  type RuleFields,
} from '../secgroups/rules.ts';
import {
  allowed, authorize, badRequest, contextOf, isAdmin, listResponse, newId, now, standardView, type NetworkDeps,
} from './common.ts';

export const RULE_TAG_TYPE = 'security_group_rule';

// ---- shared with security-groups.ts ----

/** The project a new resource belongs to: the caller's, or (admins only) the one the body names. */
export function owningProject(ctx: RequestContext, body: Record<string, unknown>): string {
  const { project_id: project, tenant_id: tenant } = body;
  if (project !== undefined && tenant !== undefined && project !== tenant) {
    throw typedError(400, 'HTTPBadRequest', "'project_id' and 'tenant_id' do not match");
  }
  const given = project ?? tenant;
  if (given === undefined || given === null) {
    if (!ctx.projectId) throw badRequest("Running without keystone AuthN requires that 'project_id' is specified");
    return ctx.projectId;
  }
  if (typeof given !== 'string' || !given) throw typedError(400, 'InvalidInput', `Invalid input for project_id. Reason: ${JSON.stringify(given)} is not a valid string.`);
  if (given !== ctx.projectId && !isAdmin(ctx)) {
    throw typedError(400, 'HTTPBadRequest', "Specifying 'project_id' or 'tenant_id' other than the authenticated project in request requires admin privileges");
  }
  return given;
}

/** A security group the caller may see (its project's; admins: any), else undefined. */
export async function visibleGroup(db: NetDb | NetTx, ctx: RequestContext, id: string): Promise<SecurityGroupTable | undefined> {
  const row = await db.selectFrom('security_group').selectAll().where('id', '=', id).executeTakeFirst();
  if (!row) return undefined;
  return isAdmin(ctx) || row.project_id === ctx.projectId ? row : undefined;
}

/** Bumps a group's revision (a rule added or removed changes the group). */
export async function bumpGroup(tx: NetTx, groupId: string): Promise<void> {
  const row = await tx.selectFrom('security_group').select('revision_number').where('id', '=', groupId).executeTakeFirst();
  if (!row) return;
  await tx.updateTable('security_group')
    .set({ revision_number: Number(row.revision_number) + 1, updated_at: now() })
    .where('id', '=', groupId).execute();
}

async function defaultGroupIds(db: NetDb | NetTx, groupIds: string[]): Promise<Set<string>> {
  if (groupIds.length === 0) return new Set();
  let q = db.selectFrom('default_security_group').select('security_group_id');
  if (groupIds.length <= 500) q = q.where('security_group_id', 'in', groupIds);
  return new Set((await q.execute()).map((r) => r.security_group_id));
}

/** Neutron's view of rules (tenant_id beside project_id, normalized_cidr, belongs_to_default_sg). */
export async function ruleViews(db: NetDb | NetTx, rows: SecurityGroupRuleTable[]): Promise<Record<string, unknown>[]> {
  if (rows.length === 0) return [];
  const defaults = await defaultGroupIds(db, [...new Set(rows.map((r) => r.security_group_id))]);
  const tags = await tagsFor(db, RULE_TAG_TYPE, rows.length <= 500 ? rows.map((r) => r.id) : undefined);
  return rows.map((r) => ({
    id: r.id,
    project_id: r.project_id,
    tenant_id: r.project_id,
    security_group_id: r.security_group_id,
    ethertype: r.ethertype,
    direction: r.direction,
    protocol: r.protocol,
    port_range_min: r.port_range_min === null ? null : Number(r.port_range_min),
    port_range_max: r.port_range_max === null ? null : Number(r.port_range_max),
    remote_ip_prefix: r.remote_ip_prefix,
    remote_address_group_id: r.remote_address_group_id,
    normalized_cidr: normalizedCidr(r.remote_ip_prefix),
    remote_group_id: r.remote_group_id,
    belongs_to_default_sg: defaults.has(r.security_group_id),
    description: r.description,
    ...standardView(r, tags.get(r.id) ?? []),
  }));
}

/** The rules a caller may see: its project's, and those of its project's groups; admins: all. */
async function visibleRules(db: NetDb, ctx: RequestContext): Promise<SecurityGroupRuleTable[]> {
  let q = db.selectFrom('security_group_rule').selectAll();
  if (!isAdmin(ctx)) {
    const project = ctx.projectId ?? '';
    q = q.where((eb) => eb.or([
      eb('project_id', '=', project),
      eb('security_group_id', 'in', eb.selectFrom('security_group').select('id').where('project_id', '=', project)),
    ]));
  }
  return q.execute();
}

async function visibleRule(db: NetDb | NetTx, req: FastifyRequest, deps: NetworkDeps, id: string): Promise<SecurityGroupRuleTable> {
  const ctx = contextOf(req);
  const rule = await db.selectFrom('security_group_rule').selectAll().where('id', '=', id).executeTakeFirst();
  if (!rule) throw securityGroupRuleNotFound(id);
  if (isAdmin(ctx) || rule.project_id === ctx.projectId) return rule;
  const group = await db.selectFrom('security_group').select('project_id').where('id', '=', rule.security_group_id).executeTakeFirst();
  if (group?.project_id === ctx.projectId && allowed(req, deps, 'get_security_group_rule', { project_id: group!.project_id })) return rule;
  throw securityGroupRuleNotFound(id);
}

// ---- creation ----

/**
 * Creates the rules (all of one group and one project) in the caller's transaction: the
 * groups must be visible, no rule may repeat another (409), and the rule quota must hold.
 */
export async function createRules(tx: NetTx, deps: NetworkDeps, ctx: RequestContext, projectId: string, rules: RuleFields[]): Promise<SecurityGroupRuleTable[]> {
  const groupId = rules[0]!.security_group_id;
  // Rule changes of one group take turns: the group row is locked first (its revision is
  // bumped at the end anyway), so racing duplicates meet a clean 409, not a deadlock.
  let lock = tx.selectFrom('security_group').select('id').where('id', '=', groupId);
  if (hasRowLocks(tx)) lock = lock.forUpdate();
  await lock.executeTakeFirst();
  if (!(await visibleGroup(tx, ctx, groupId))) throw securityGroupNotFound(groupId);
  for (const remote of new Set(rules.map((r) => r.remote_group_id).filter((r): r is string => !!r))) {
    if (remote !== groupId && !(await visibleGroup(tx, ctx, remote))) throw securityGroupNotFound(remote);
  }
  const keys = new Set<string>();
  for (const rule of rules) {
    const key = ruleKey(rule);
    if (keys.has(key)) throw duplicateRuleInPost();
    keys.add(key);
  }
  const fingerprints = rules.map((r) => ruleFingerprint(r));
  for (const fp of fingerprints) {
    const existing = await ruleWithFingerprint(tx, groupId, fp);
    if (existing) throw securityGroupRuleExists(existing);
  }
  await checkQuota(tx, deps, projectId, 'security_group_rule', rules.length);
  const at = now();
  const rows: SecurityGroupRuleTable[] = rules.map((r, i) => ({
    id: newId(), project_id: projectId, ...r, fingerprint: fingerprints[i]!, created_at: at, updated_at: at, revision_number: 0,
  }));
  for (const row of rows) {
    await withUniqueSavepoint(
      tx, 'sgr',
      async () => { await tx.insertInto('security_group_rule').values(row).execute(); },
      async () => {
        // Another request added the same rule meanwhile.
        const winner = await ruleWithFingerprint(tx, groupId, row.fingerprint, true);
        throw winner ? securityGroupRuleExists(winner) : typedError(409, 'SecurityGroupConflict', 'Error concurrent rule creation while attempting the operation.');
      },
    );
  }
  await bumpGroup(tx, groupId);
  return rows;
}

function ruleBodies(body: unknown): { bulk: boolean; items: Record<string, unknown>[] } {
  const b = (body ?? {}) as Record<string, unknown>;
  if (Array.isArray(b.security_group_rules)) {
    const items = b.security_group_rules.map((i) => (i as Record<string, unknown>)?.security_group_rule ?? i);
    if (items.length === 0 || items.some((i) => i === null || typeof i !== 'object' || Array.isArray(i))) {
      throw badRequest('Resource body required: the request body must contain a list of security_group_rule objects.');
    }
    return { bulk: true, items: items as Record<string, unknown>[] };
  }
  const one = b.security_group_rule;
  if (one === null || typeof one !== 'object' || Array.isArray(one)) {
    throw badRequest("Resource body required: the request body must contain an object 'security_group_rule'.");
  }
  return { bulk: false, items: [one as Record<string, unknown>] };
}

// ---- routes ----

export function registerSecurityGroupRules(app: FastifyInstance, deps: NetworkDeps): void {
  app.post('/v2.0/security-group-rules', async (req, reply) => {
    const ctx = contextOf(req);
    const { bulk, items } = ruleBodies(req.body);
    const projects = new Set(items.map((i) => owningProject(ctx, i)));
    if (projects.size > 1) throw typedError(400, 'SecurityGroupRulesNotSingleProject', 'Multiple project_ids in bulk security group rule create not allowed');
    const projectId = [...projects][0]!;
    const rules = items.map((i) => normalizeRule(i));
    if (new Set(rules.map((r) => r.security_group_id)).size > 1) {
      throw typedError(400, 'SecurityGroupNotSingleGroupRules', 'Only allowed to update rules for one security profile at a time');
    }
    authorize(req, deps, 'create_security_group_rule', { project_id: projectId });
    const rows = await deps.data.write(async (tx) => {
      const created = await createRules(tx, deps, ctx, projectId, rules);
      return ruleViews(tx, created);
    });
    await publishSecurityGroupUpdated(deps, rules[0]!.security_group_id);
    reply.code(201);
    return bulk ? { security_group_rules: rows } : { security_group_rule: rows[0] };
  });

  app.get('/v2.0/security-group-rules', async (req) => {
    const ctx = contextOf(req);
    const rows = await visibleRules(deps.data.db, ctx);
    return listResponse(req, deps, 'security_group_rules', await ruleViews(deps.data.db, rows));
  });

  app.get<{ Params: { id: string } }>('/v2.0/security-group-rules/:id', async (req) => {
    const rule = await visibleRule(deps.data.db, req, deps, req.params.id);
    const [view] = await ruleViews(deps.data.db, [rule]);
    const fields = ([] as unknown[]).concat((req.query as Record<string, unknown>).fields ?? []).flatMap((f) => String(f).split(',')).filter(Boolean);
    return { security_group_rule: fields.length ? Object.fromEntries(fields.filter((f) => f in view!).map((f) => [f, view![f]])) : view };
  });

  app.put<{ Params: { id: string } }>('/v2.0/security-group-rules/:id', async (req) => {
    const body = (req.body as Record<string, unknown> | undefined)?.security_group_rule;
    if (body === null || typeof body !== 'object' || Array.isArray(body)) {
      throw badRequest("Resource body required: the request body must contain an object 'security_group_rule'.");
    }
    const changes = body as Record<string, unknown>;
    for (const key of Object.keys(changes)) {
      if (key !== 'description' && ['id', 'project_id', 'tenant_id', 'security_group_id', 'direction', 'ethertype', 'protocol', 'port_range_min', 'port_range_max', 'remote_ip_prefix', 'remote_group_id', 'remote_address_group_id', 'normalized_cidr', 'belongs_to_default_sg'].includes(key)) {
        throw typedError(400, 'HTTPBadRequest', `Cannot update read-only attribute ${key}`);
      }
    }
    rejectUnknown(changes, ['description']);
    const description = stringAttribute(changes, 'description', '');
    const view = await deps.data.write(async (tx) => {
      const rule = await visibleRule(tx, req, deps, req.params.id);
      authorize(req, deps, 'update_security_group_rule', { project_id: rule.project_id });
      if (changes.description !== undefined) {
        await tx.updateTable('security_group_rule')
          .set({ description, updated_at: now(), revision_number: Number(rule.revision_number) + 1 })
          .where('id', '=', rule.id).execute();
      }
      const fresh = await tx.selectFrom('security_group_rule').selectAll().where('id', '=', rule.id).executeTakeFirstOrThrow();
      return (await ruleViews(tx, [fresh]))[0];
    });
    return { security_group_rule: view };
  });

  app.delete<{ Params: { id: string } }>('/v2.0/security-group-rules/:id', async (req, reply) => {
    const groupId = await deps.data.write(async (tx) => {
      const rule = await visibleRule(tx, req, deps, req.params.id);
      const group = await tx.selectFrom('security_group').select('project_id').where('id', '=', rule.security_group_id).executeTakeFirst();
      if (!allowed(req, deps, 'delete_security_group_rule', { project_id: rule.project_id })
        && !(group && allowed(req, deps, 'delete_security_group_rule', { project_id: group.project_id }))) {
        authorize(req, deps, 'delete_security_group_rule', { project_id: rule.project_id });
      }
      await tx.deleteFrom('security_group_rule').where('id', '=', rule.id).execute();
      await deleteTags(tx, RULE_TAG_TYPE, rule.id);
      await bumpGroup(tx, rule.security_group_id);
      return rule.security_group_id;
    });
    await publishSecurityGroupUpdated(deps, groupId);
    reply.code(204);
    return reply.send();
  });
}
