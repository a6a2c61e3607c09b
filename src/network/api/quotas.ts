// /v2.0/quotas (Neutron's quotas and quota_details extensions): the projects with limits of
// their own (admin), one project's limits (itself or admin), the defaults, the details (limit,
// used, reserved), setting limits (admin; -1 unlimited; not below what is already used unless
// "force": true) and going back to the defaults (admin). `openstack quota show|set` use these.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { typedError } from '../../core/http/index.ts';
import {
  QUOTA_RESOURCES, isQuotaResource, quotaDefaults, quotaLimits, quotaUsage, resourceUsage, type QuotaResource,
} from '../quota/enforce.ts';
import { authorize, badRequest, contextOf, isAdmin, resourceBody, type NetworkDeps } from './common.ts';

const DB_INTEGER_MAX = 2147483647;

/** Neutron checks quota policy against the caller's own project: so only admins pass get_quota for others. */
function validatePolicy(req: FastifyRequest, deps: NetworkDeps, rule: string): void {
  authorize(req, deps, rule, { project_id: contextOf(req).projectId ?? '' });
}

function limitValue(resource: string, value: unknown): number {
  const text = typeof value === 'number' ? String(value) : typeof value === 'string' ? value.trim() : '';
  if (!/^[+-]?\d+$/.test(text) || (typeof value === 'number' && !Number.isInteger(value))) {
    throw typedError(400, 'InvalidInput', `Invalid input for operation: '${String(value)}' is not an integer.`);
  }
  const n = Number(text);
  if (n < -1 || n > DB_INTEGER_MAX) {
    throw typedError(400, 'InvalidInput', `Invalid input for ${resource}. Reason: '${n}' is not in range -1 through ${DB_INTEGER_MAX}.`);
  }
  return n;
}

export function registerQuotas(app: FastifyInstance, deps: NetworkDeps): void {
  app.get('/v2.0/quotas', async (req) => {
    validatePolicy(req, deps, 'get_quota');
    const rows = await deps.data.db.selectFrom('quota').select(['project_id', 'resource', 'hard_limit']).orderBy('project_id').execute();
    const byProject = new Map<string, Record<string, unknown>>();
    for (const row of rows) {
      let entry = byProject.get(row.project_id);
      if (!entry) {
        entry = { ...quotaDefaults(deps), project_id: row.project_id, tenant_id: row.project_id };
        byProject.set(row.project_id, entry);
      }
      if (isQuotaResource(row.resource)) entry[row.resource] = Number(row.hard_limit);
    }
    return { quotas: [...byProject.values()] };
  });

  // The caller's own project (the "tenant" form is the deprecated spelling).
  for (const key of ['tenant', 'project'] as const) {
    app.get(`/v2.0/quotas/${key}`, async (req) => {
      const ctx = contextOf(req);
      if (!ctx.projectId) throw typedError(400, 'QuotaMissingTenant', 'Tenant-id was missing from quota request.');
      return { [key]: { [`${key}_id`]: ctx.projectId } };
    });
  }

  app.get<{ Params: { project_id: string } }>('/v2.0/quotas/:project_id', async (req) => {
    if (req.params.project_id !== contextOf(req).projectId) validatePolicy(req, deps, 'get_quota');
    return { quota: await quotaLimits(deps.data.db, deps, req.params.project_id) };
  });

  app.get<{ Params: { project_id: string } }>('/v2.0/quotas/:project_id/default', async (req) => {
    if (req.params.project_id !== contextOf(req).projectId) validatePolicy(req, deps, 'get_quota');
    return { quota: quotaDefaults(deps) };
  });

  app.get<{ Params: { project_id: string } }>('/v2.0/quotas/:project_id/details', async (req) => {
    const ctx = contextOf(req);
    if (req.params.project_id !== ctx.projectId && !isAdmin(ctx)) {
      throw typedError(403, 'AdminRequired', 'User does not have admin privileges: Only admin is authorized to access quotas for another project.');
    }
    const limits = await quotaLimits(deps.data.db, deps, req.params.project_id);
    const used = await quotaUsage(deps.data.db, req.params.project_id);
    const quota: Record<string, { limit: number; used: number; reserved: number }> = {};
    for (const r of QUOTA_RESOURCES) quota[r] = { limit: limits[r], used: used[r], reserved: 0 };
    return { quota };
  });

  app.put<{ Params: { project_id: string } }>('/v2.0/quotas/:project_id', async (req) => {
    validatePolicy(req, deps, 'update_quota');
    const projectId = req.params.project_id;
    const body = { ...resourceBody(req.body, 'quota') };
    const force = body.force;
    delete body.force;
    delete body.check_limit;
    const unknown = Object.keys(body).filter((k) => !isQuotaResource(k));
    if (unknown.length) throw typedError(400, 'HTTPBadRequest', `Unrecognized attribute(s) '${unknown.join(', ')}'`);
    const limits = Object.entries(body).map(([resource, value]) => [resource as QuotaResource, limitValue(resource, value)] as const);
    await deps.data.write(async (tx) => {
      if (force !== true && force !== 'true' && force !== 'True') {
        for (const [resource, limit] of limits) {
          if (limit === -1) continue;
          const used = await resourceUsage(tx, resource, projectId);
          if (used > limit) {
            throw badRequest(`Quota limit ${limit} for ${resource} must be greater than or equal to already used ${used}`);
          }
        }
      }
      for (const [resource, limit] of limits) {
        const existing = await tx.selectFrom('quota').select('hard_limit')
          .where('project_id', '=', projectId).where('resource', '=', resource).executeTakeFirst();
        if (existing) {
          await tx.updateTable('quota').set({ hard_limit: limit })
            .where('project_id', '=', projectId).where('resource', '=', resource).execute();
        } else {
          await tx.insertInto('quota').values({ project_id: projectId, resource, hard_limit: limit }).execute();
        }
      }
    });
    return { quota: await quotaLimits(deps.data.db, deps, projectId) };
  });

  app.delete<{ Params: { project_id: string } }>('/v2.0/quotas/:project_id', async (req, reply) => {
    validatePolicy(req, deps, 'delete_quota');
    const deleted = await deps.data.write((tx) => tx.deleteFrom('quota').where('project_id', '=', req.params.project_id).executeTakeFirst());
    if (Number(deleted.numDeletedRows) === 0) {
      throw typedError(404, 'TenantQuotaNotFound', `Quota for tenant ${req.params.project_id} could not be found.`);
    }
    reply.code(204);
    return reply.send();
  });
}
