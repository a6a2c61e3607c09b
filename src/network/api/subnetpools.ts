// Subnet pools: POST/GET/PUT/DELETE /v2.0/subnetpools[/{id}] (and bulk POST), as Neutron's
// subnet_allocation extension: prefixes of one IP version (compacted), default/min/max
// prefix lengths (defaults: min /8 for IPv4 and /64 for IPv6, max /32 and /128, default = min),
// `shared` and `is_default` for admins (one default pool per IP version), `default_quota`
// (addresses per project for IPv4, /64s for IPv6). Address scopes are not implemented:
// address_scope_id accepts null only. Subnets take their CIDRs from pools in subnets.ts.
//
// Who sees a pool: its project, admins, and everyone when it is shared; others get 404.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { dbBool, fromDbBool } from '../../core/db/index.ts';
import { typedError } from '../../core/http/index.ts';
import type { RequestContext } from '../../core/auth/index.ts';
import type { NetDb, NetTx } from '../db/database.ts';
import type { SubnetPoolTable } from '../db/schema.ts';
import { deleteTags, tagsFor } from '../db/tags.ts';
import {
  authorize, contextOf, isAdmin, listResponse, newId, now, parseListQuery, resourceBody, selectFields, standardView,
  type NetworkDeps,
} from './common.ts';
import { bitsOf, cidrText, containsCidr, mergeCidrs, parseCidr, type CidrLike, type IpVersion } from '../ipam/cidr.ts';
import { attributeError, invalidOperation, rejectUnknownKeys, toBool, toInt, toText, validateCidrText } from './subnets.ts';
import { checkQuota } from '../quota/enforce.ts';

const CREATE_KEYS = new Set([
  'name', 'description', 'prefixes', 'default_prefixlen', 'min_prefixlen', 'max_prefixlen', 'shared', 'is_default',
  'default_quota', 'address_scope_id', 'project_id', 'tenant_id', 'tags',
]);
const UPDATE_KEYS = new Set(['name', 'description', 'prefixes', 'default_prefixlen', 'min_prefixlen', 'max_prefixlen', 'is_default', 'default_quota', 'address_scope_id']);
const READ_ONLY_ON_UPDATE = new Set(['id', 'shared', 'ip_version', 'project_id', 'tenant_id', 'created_at', 'updated_at', 'revision_number']);

export function subnetPoolView(row: SubnetPoolTable, tags: string[]): Record<string, unknown> {
  return {
    id: row.id,
    name: row.name,
    description: row.description,
    project_id: row.project_id,
    tenant_id: row.project_id,
    ip_version: Number(row.ip_version),
    prefixes: JSON.parse(row.prefixes),
    default_prefixlen: Number(row.default_prefixlen),
    min_prefixlen: Number(row.min_prefixlen),
    max_prefixlen: Number(row.max_prefixlen),
    shared: fromDbBool(row.shared),
    is_default: fromDbBool(row.is_default),
    default_quota: row.default_quota === null ? null : Number(row.default_quota),
    address_scope_id: row.address_scope_id,
    ...standardView(row, tags),
  };
}

const notFound = (id: string) => typedError(404, 'SubnetPoolNotFound', `Subnet pool ${id} could not be found.`);
const canSee = (ctx: RequestContext, row: SubnetPoolTable) => isAdmin(ctx) || row.project_id === ctx.projectId || fromDbBool(row.shared);

async function visiblePool(db: NetDb | NetTx, ctx: RequestContext, id: string): Promise<SubnetPoolTable> {
  const row = await db.selectFrom('subnetpool').selectAll().where('id', '=', id).executeTakeFirst();
  if (!row || !canSee(ctx, row)) throw notFound(id);
  return row;
}

function readPrefixes(value: unknown): { version: IpVersion; prefixes: CidrLike[] } {
  if (!Array.isArray(value)) throw attributeError('prefixes', `'${JSON.stringify(value)}' is not a list.`);
  if (value.length === 0) throw typedError(400, 'EmptySubnetPoolPrefixList', 'Empty subnet pool prefix list.');
  const cidrs = value.map((p) => validateCidrText('prefixes', p));
  const version = cidrs[0]!.version;
  if (cidrs.some((c) => c.version !== version)) throw typedError(400, 'PrefixVersionMismatch', 'Cannot mix IPv4 and IPv6 prefixes in a subnet pool.');
  return { version, prefixes: mergeCidrs(cidrs) };
}

function prefixlenOf(attr: string, value: unknown, version: IpVersion): number {
  const n = toInt(attr, value);
  if (n < 0 || n > bitsOf(version)) throw attributeError(attr, `'${n}' is not in range 0 through ${bitsOf(version)}.`);
  return n;
}

function checkBounds(min: number, max: number, def: number): void {
  if (min > max) throw typedError(400, 'IllegalSubnetPoolPrefixBounds', `Illegal prefix bounds: min_prefixlen=${min}, max_prefixlen=${max}.`);
  if (def < min) throw typedError(400, 'IllegalSubnetPoolPrefixBounds', `Illegal prefix bounds: default_prefixlen=${def}, min_prefixlen=${min}.`);
  if (def > max) throw typedError(400, 'IllegalSubnetPoolPrefixBounds', `Illegal prefix bounds: default_prefixlen=${def}, max_prefixlen=${max}.`);
}

function quotaOf(value: unknown): number | null {
  if (value === null) return null;
  const n = toInt('default_quota', value);
  if (n < 0) throw attributeError('default_quota', `'${n}' should be non-negative.`);
  return n;
}

function addressScope(value: unknown): null {
  if (value === null || value === undefined) return null;
  throw typedError(404, 'AddressScopeNotFound', `Address scope ${String(value)} could not be found.`);
}

async function checkSingleDefault(tx: NetTx, version: number, exceptId?: string): Promise<void> {
  let q = tx.selectFrom('subnetpool').select('id').where('is_default', '=', 1).where('ip_version', '=', version);
  if (exceptId) q = q.where('id', '!=', exceptId);
  if (await q.executeTakeFirst()) {
    throw invalidOperation('A default subnetpool for this IP family has already been set. Only one default may exist per IP family');
  }
}

async function buildPool(tx: NetTx, deps: NetworkDeps, req: FastifyRequest, ctx: RequestContext, body: Record<string, unknown>): Promise<{ row: SubnetPoolTable; tags: string[] }> {
  rejectUnknownKeys(body, CREATE_KEYS, new Set(), 'POST');
  for (const required of ['name', 'prefixes']) {
    if (body[required] === undefined) throw typedError(400, 'HTTPBadRequest', `Failed to parse request. Required attribute '${required}' not specified`);
  }
  const requestedProject = (body.project_id ?? body.tenant_id) as string | undefined;
  if (requestedProject !== undefined && requestedProject !== ctx.projectId && !isAdmin(ctx)) {
    throw typedError(400, 'HTTPBadRequest', "Specifying 'project_id' or 'tenant_id' other than the authenticated project in request requires admin privileges");
  }
  const projectId = requestedProject ?? ctx.projectId ?? '';
  const shared = body.shared === undefined ? false : toBool('shared', body.shared);
  const isDefault = body.is_default === undefined ? false : toBool('is_default', body.is_default);
  const target = { project_id: projectId, shared, is_default: isDefault };
  authorize(req, deps, 'create_subnetpool', target);
  if (body.shared !== undefined) authorize(req, deps, 'create_subnetpool:shared', target);
  if (body.is_default !== undefined) authorize(req, deps, 'create_subnetpool:is_default', target);

  const { version, prefixes } = readPrefixes(body.prefixes);
  const min = body.min_prefixlen === undefined ? (version === 4 ? 8 : 64) : prefixlenOf('min_prefixlen', body.min_prefixlen, version);
  const max = body.max_prefixlen === undefined ? bitsOf(version) : prefixlenOf('max_prefixlen', body.max_prefixlen, version);
  const def = body.default_prefixlen === undefined ? min : prefixlenOf('default_prefixlen', body.default_prefixlen, version);
  checkBounds(min, max, def);
  if (isDefault) await checkSingleDefault(tx, version);
  await checkQuota(tx, deps, projectId, 'subnetpool');
  const at = now();
  const row: SubnetPoolTable = {
    id: newId(),
    project_id: projectId,
    name: toText('name', body.name),
    description: body.description === undefined ? '' : toText('description', body.description),
    ip_version: version,
    prefixes: JSON.stringify(prefixes.map(cidrText)),
    default_prefixlen: def,
    min_prefixlen: min,
    max_prefixlen: max,
    shared: dbBool(shared),
    is_default: dbBool(isDefault),
    default_quota: body.default_quota === undefined ? null : quotaOf(body.default_quota),
    address_scope_id: addressScope(body.address_scope_id),
    created_at: at,
    updated_at: at,
    revision_number: 0,
  };
  const tags = body.tags === undefined ? [] : [...new Set(body.tags as string[])].sort();
  if (!Array.isArray(body.tags ?? []) || tags.some((t) => typeof t !== 'string' || !t)) throw attributeError('tags', `'${JSON.stringify(body.tags)}' is not a valid list of tags.`);
  return { row, tags };
}

async function updatePool(req: FastifyRequest, deps: NetworkDeps, ctx: RequestContext, id: string, body: Record<string, unknown>) {
  rejectUnknownKeys(body, UPDATE_KEYS, READ_ONLY_ON_UPDATE, 'PUT');
  return deps.data.write(async (tx) => {
    const pool = await visiblePool(tx, ctx, id);
    const target = { project_id: pool.project_id, shared: fromDbBool(pool.shared), is_default: fromDbBool(pool.is_default) };
    authorize(req, deps, 'update_subnetpool', target);
    if (body.is_default !== undefined) authorize(req, deps, 'update_subnetpool:is_default', target);
    const version = Number(pool.ip_version) as IpVersion;
    const changes: Partial<SubnetPoolTable> = {};
    if (body.name !== undefined) changes.name = toText('name', body.name);
    if (body.description !== undefined) changes.description = toText('description', body.description);
    if (body.prefixes !== undefined) {
      const next = readPrefixes(body.prefixes);
      if (next.version !== version) throw typedError(400, 'PrefixVersionMismatch', 'Cannot mix IPv4 and IPv6 prefixes in a subnet pool.');
      const old = (JSON.parse(pool.prefixes) as string[]).map((p) => parseCidr(p)!);
      if (!old.every((o) => next.prefixes.some((n) => containsCidr(n, o)))) {
        throw typedError(400, 'IllegalSubnetPoolPrefixUpdate', 'Illegal update to prefixes: Existing prefixes must be a subset of the new prefixes.');
      }
      changes.prefixes = JSON.stringify(next.prefixes.map(cidrText));
    }
    const min = body.min_prefixlen === undefined ? Number(pool.min_prefixlen) : prefixlenOf('min_prefixlen', body.min_prefixlen, version);
    const max = body.max_prefixlen === undefined ? Number(pool.max_prefixlen) : prefixlenOf('max_prefixlen', body.max_prefixlen, version);
    const def = body.default_prefixlen === undefined ? Number(pool.default_prefixlen) : prefixlenOf('default_prefixlen', body.default_prefixlen, version);
    checkBounds(min, max, def);
    if (body.min_prefixlen !== undefined) changes.min_prefixlen = min;
    if (body.max_prefixlen !== undefined) changes.max_prefixlen = max;
    if (body.default_prefixlen !== undefined) changes.default_prefixlen = def;
    if (body.default_quota !== undefined) changes.default_quota = quotaOf(body.default_quota);
    if (body.address_scope_id !== undefined) changes.address_scope_id = addressScope(body.address_scope_id);
    if (body.is_default !== undefined) {
      const isDefault = toBool('is_default', body.is_default);
      if (isDefault) await checkSingleDefault(tx, version, pool.id);
      changes.is_default = dbBool(isDefault);
    }
    const updated: SubnetPoolTable = { ...pool, ...changes, updated_at: now(), revision_number: Number(pool.revision_number) + 1 };
    await tx.updateTable('subnetpool').set({ ...changes, updated_at: updated.updated_at, revision_number: updated.revision_number }).where('id', '=', pool.id).execute();
    const tags = (await tagsFor(tx, 'subnetpool', [pool.id])).get(pool.id) ?? [];
    return subnetPoolView(updated, tags);
  });
}

export function registerSubnetPools(app: FastifyInstance, deps: NetworkDeps): void {
  app.post('/v2.0/subnetpools', async (req, reply) => {
    const ctx = contextOf(req);
    const raw = req.body as Record<string, unknown> | undefined;
    const bulk = Array.isArray(raw?.subnetpools);
    const bodies = bulk ? (raw!.subnetpools as unknown[]).map((b) => resourceBody({ subnetpool: b }, 'subnetpool')) : [resourceBody(raw, 'subnetpool')];
    const views = await deps.data.write(async (tx) => {
      const out: Record<string, unknown>[] = [];
      for (const body of bodies) {
        const { row, tags } = await buildPool(tx, deps, req, ctx, body);
        await tx.insertInto('subnetpool').values(row).execute();
        if (tags.length) await tx.insertInto('tag').values(tags.map((tag) => ({ resource_type: 'subnetpool', resource_id: row.id, tag }))).execute();
        out.push(subnetPoolView(row, tags));
      }
      return out;
    });
    reply.code(201);
    return bulk ? { subnetpools: views } : { subnetpool: views[0] };
  });

  app.get('/v2.0/subnetpools', async (req) => {
    const ctx = contextOf(req);
    const rows = (await deps.data.db.selectFrom('subnetpool').selectAll().execute()).filter((r) => canSee(ctx, r));
    const tags = await tagsFor(deps.data.db, 'subnetpool', rows.length <= 500 ? rows.map((r) => r.id) : undefined);
    return listResponse(req, deps, 'subnetpools', rows.map((r) => subnetPoolView(r, tags.get(r.id) ?? [])));
  });

  app.get<{ Params: { id: string } }>('/v2.0/subnetpools/:id', async (req) => {
    const pool = await visiblePool(deps.data.db, contextOf(req), req.params.id);
    const tags = (await tagsFor(deps.data.db, 'subnetpool', [pool.id])).get(pool.id) ?? [];
    return { subnetpool: selectFields(subnetPoolView(pool, tags), parseListQuery(req.query as Record<string, unknown>).fields) };
  });

  app.put<{ Params: { id: string } }>('/v2.0/subnetpools/:id', async (req) => {
    return { subnetpool: await updatePool(req, deps, contextOf(req), req.params.id, resourceBody(req.body, 'subnetpool')) };
  });

  app.delete<{ Params: { id: string } }>('/v2.0/subnetpools/:id', async (req, reply) => {
    const ctx = contextOf(req);
    await deps.data.write(async (tx) => {
      const pool = await visiblePool(tx, ctx, req.params.id);
      authorize(req, deps, 'delete_subnetpool', { project_id: pool.project_id, shared: fromDbBool(pool.shared) });
      if (await tx.selectFrom('subnet').select('id').where('subnetpool_id', '=', pool.id).executeTakeFirst()) {
        throw typedError(400, 'SubnetPoolDeleteError', 'Unable to delete subnet pool: Subnet pool has existing allocations.');
      }
      await deleteTags(tx, 'subnetpool', pool.id);
      await tx.deleteFrom('subnetpool').where('id', '=', pool.id).execute();
    });
    reply.code(204);
    return null;
  });
}
