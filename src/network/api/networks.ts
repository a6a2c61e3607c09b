// Networks: POST/GET/PUT/DELETE /v2.0/networks[/{id}] (and bulk POST {"networks": [...]}),
// with the external-net, provider, multi-provider, net-mtu(-writable), port-security,
// availability-zone and standard-attr extensions' attributes.
//
// Who sees what, as Neutron: admins see every network; others their own plus shared and
// external ones (anything else is a 404 NetworkNotFound). provider:* and `segments` are
// admin-only to set (403) and to see (the keys are absent for others).
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { dbBool, fromDbBool } from '../../core/db/index.ts';
import { typedError } from '../../core/http/index.ts';
import type { RequestContext } from '../../core/auth/index.ts';
import type { NetTx, NetDb } from '../db/database.ts';
import type { NetworkTable, SegmentTable } from '../db/schema.ts';
import { deleteTags, tagsFor } from '../db/tags.ts';
import { checkQuota } from '../quota/enforce.ts';
import { publishNetworkDeleted, publishNetworkUpdated } from '../agent/events.ts';
import {
  allowed, authorize, contextOf, inUse, invalidInput, isAdmin, listResponse, newId, notFoundError, now,
  parseListQuery, resourceBody, selectFields, standardView, type NetworkDeps,
} from './common.ts';
import {
  defaultMtu, insertSegments, tenantSegmentSpecs, validateSegment, withAllocationRetry, type SegmentSpec,
} from '../segments/allocate.ts';

const PROVIDER_KEYS = ['provider:network_type', 'provider:physical_network', 'provider:segmentation_id'] as const;
const CREATE_KEYS = new Set([
  'name', 'description', 'admin_state_up', 'shared', 'router:external', 'is_default', 'mtu', 'port_security_enabled',
  'availability_zone_hints', 'segments', 'project_id', 'tenant_id', 'tags', ...PROVIDER_KEYS,
]);
const UPDATE_KEYS = new Set([
  'name', 'description', 'admin_state_up', 'shared', 'router:external', 'is_default', 'mtu', 'port_security_enabled',
  'segments', ...PROVIDER_KEYS,
]);
const MIN_MTU = 68;

// ---- attribute validation (Neutron's messages: "Invalid input for <attr>. Reason: ...") ----

const attributeError = (attr: string, reason: string) => typedError(400, 'HTTPBadRequest', `Invalid input for ${attr}. Reason: ${reason}`);

export function toBoolean(attr: string, value: unknown): boolean {
  if (typeof value === 'boolean') return value;
  if (value === 0 || value === 1) return value === 1;
  if (typeof value === 'string') {
    const v = value.toLowerCase();
    if (['true', '1', 'yes', 'on'].includes(v)) return true;
    if (['false', '0', 'no', 'off'].includes(v)) return false;
  }
  throw attributeError(attr, `'${String(value)}' is not a valid boolean value.`);
}

function toText(attr: string, value: unknown, max = 255): string {
  if (typeof value !== 'string') throw attributeError(attr, `'${String(value)}' is not a valid string.`);
  if (value.length > max) throw attributeError(attr, `'${value}' exceeds maximum length of ${max}.`);
  return value;
}

function toInteger(attr: string, value: unknown): number {
  const n = typeof value === 'string' && /^-?\d+$/.test(value.trim()) ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isInteger(n)) throw attributeError(attr, `'${String(value)}' is not an integer.`);
  return n;
}

function rejectUnknown(body: Record<string, unknown>, known: Set<string>, method: 'POST' | 'PUT'): void {
  const unknown = Object.keys(body).filter((k) => !known.has(k));
  if (!unknown.length) return;
  const readOnly = unknown.filter((k) => ['id', 'status', 'subnets', 'availability_zones', 'created_at', 'updated_at', 'revision_number', 'project_id', 'tenant_id', 'availability_zone_hints'].includes(k));
  if (readOnly.length) {
    throw typedError(400, 'HTTPBadRequest', method === 'PUT' ? `Cannot update read-only attribute ${readOnly[0]}` : `Attribute '${readOnly[0]}' not allowed in POST`);
  }
  throw typedError(400, 'HTTPBadRequest', `Unrecognized attribute(s) '${unknown.join(', ')}'`);
}

// ---- views ----

export interface NetworkRelations {
  segments: Map<string, SegmentTable[]>;
  subnets: Map<string, string[]>;
  tags: Map<string, string[]>;
}

function segmentView(s: SegmentTable) {
  return {
    'provider:network_type': s.network_type,
    'provider:physical_network': s.physical_network || null,
    'provider:segmentation_id': s.network_type === 'flat' || s.segmentation_id === null ? null : Number(s.segmentation_id),
  };
}

export function networkView(deps: NetworkDeps, row: NetworkTable, rel: NetworkRelations, showProvider: boolean): Record<string, unknown> {
  const view: Record<string, unknown> = {
    id: row.id,
    name: row.name,
    description: row.description,
    project_id: row.project_id,
    tenant_id: row.project_id,
    admin_state_up: fromDbBool(row.admin_state_up),
    status: row.status,
    subnets: rel.subnets.get(row.id) ?? [],
    shared: fromDbBool(row.shared),
    'router:external': fromDbBool(row.router_external),
    is_default: fromDbBool(row.is_default),
    mtu: Number(row.mtu),
    port_security_enabled: fromDbBool(row.port_security_enabled),
    availability_zone_hints: JSON.parse(row.availability_zone_hints) as string[],
    availability_zones: [deps.settings.defaultAvailabilityZone],
    ...standardView(row, rel.tags.get(row.id) ?? []),
  };
  if (showProvider) {
    const segments = [...(rel.segments.get(row.id) ?? [])].sort((a, b) => a.segment_index - b.segment_index);
    // multi-provider: one segment shows as provider:*, several as `segments`
    if (segments.length > 1) view.segments = segments.map(segmentView);
    else Object.assign(view, segments[0] ? segmentView(segments[0]) : { 'provider:network_type': null, 'provider:physical_network': null, 'provider:segmentation_id': null });
  }
  return view;
}

async function relationsOf(db: NetDb | NetTx, ids: string[] | undefined): Promise<NetworkRelations> {
  const few = ids && ids.length <= 500;
  let segQ = db.selectFrom('network_segment').selectAll();
  let subQ = db.selectFrom('subnet').select(['id', 'network_id']);
  if (ids && few) {
    if (!ids.length) return { segments: new Map(), subnets: new Map(), tags: new Map() };
    segQ = segQ.where('network_id', 'in', ids);
    subQ = subQ.where('network_id', 'in', ids);
  }
  // one after the other: inside a transaction they share its one connection
  const segRows = await segQ.execute();
  const subRows = await subQ.orderBy('id').execute();
  const tags = await tagsFor(db, 'network', ids);
  const segments = new Map<string, SegmentTable[]>();
  for (const s of segRows) segments.set(s.network_id, [...(segments.get(s.network_id) ?? []), s]);
  const subnets = new Map<string, string[]>();
  for (const s of subRows) subnets.set(s.network_id, [...(subnets.get(s.network_id) ?? []), s.id]);
  return { segments, subnets, tags };
}

const canSee = (ctx: RequestContext, row: NetworkTable) =>
  isAdmin(ctx) || row.project_id === ctx.projectId || fromDbBool(row.shared) || fromDbBool(row.router_external);

const target = (row: NetworkTable) => ({
  id: row.id, project_id: row.project_id, shared: fromDbBool(row.shared), 'router:external': fromDbBool(row.router_external),
});

/** A network the caller may see, else 404 NetworkNotFound. */
export async function visibleNetwork(db: NetDb | NetTx, ctx: RequestContext, id: string): Promise<NetworkTable> {
  const row = await db.selectFrom('network').selectAll().where('id', '=', id).executeTakeFirst();
  if (!row || !canSee(ctx, row)) throw notFoundError('Network', id);
  return row;
}

async function showOne(req: FastifyRequest, deps: NetworkDeps, db: NetDb | NetTx, row: NetworkTable) {
  const rel = await relationsOf(db, [row.id]);
  return networkView(deps, row, rel, allowed(req, deps, 'get_network:provider', target(row)));
}

// ---- create ----

interface NewNetwork {
  row: NetworkTable;
  /** per segment, the alternatives to try in order */
  segments: SegmentSpec[][];
  explicitMtu: boolean;
  tags: string[];
}

function availabilityZoneHints(deps: NetworkDeps, value: unknown): string[] {
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'string')) {
    throw attributeError('availability_zone_hints', `'${JSON.stringify(value)}' is not a list of strings.`);
  }
  for (const zone of value as string[]) {
    if (zone !== deps.settings.defaultAvailabilityZone) {
      throw typedError(404, 'AvailabilityZoneNotFound', `AvailabilityZone ${zone} could not be found.`);
    }
  }
  return [...new Set(value as string[])];
}

function tagList(value: unknown): string[] {
  if (!Array.isArray(value) || value.some((t) => typeof t !== 'string' || !t || t.length > 255)) {
    throw attributeError('tags', `'${JSON.stringify(value)}' is not a valid list of tags.`);
  }
  return [...new Set(value as string[])].sort();
}

function requestedSegments(deps: NetworkDeps, body: Record<string, unknown>): SegmentSpec[][] | undefined {
  const providerGiven = PROVIDER_KEYS.some((k) => body[k] !== undefined);
  if (body.segments !== undefined && body.segments !== null) {
    if (providerGiven) throw invalidInput('Segments and provider values cannot both be set.');
    if (!Array.isArray(body.segments) || !body.segments.length) throw attributeError('segments', 'Segments must be a non-empty list.');
    const specs = body.segments.map((s: unknown) => {
      if (s === null || typeof s !== 'object' || Array.isArray(s)) throw attributeError('segments', `'${JSON.stringify(s)}' is not a dictionary.`);
      const entry = s as Record<string, unknown>;
      const unknown = Object.keys(entry).filter((k) => !(PROVIDER_KEYS as readonly string[]).includes(k));
      if (unknown.length) throw attributeError('segments', `Unrecognized attribute(s) '${unknown.join(', ')}'`);
      return validateSegment(deps.settings, {
        network_type: entry['provider:network_type'],
        physical_network: entry['provider:physical_network'],
        segmentation_id: entry['provider:segmentation_id'],
      });
    });
    const keys = specs.map((s) => JSON.stringify([s.network_type, s.physical_network, s.segmentation_id ?? null]));
    if (specs.some((s, i) => s.segmentation_id !== undefined && keys.indexOf(keys[i]!) !== i)) {
      throw invalidInput('Duplicate segment entry in request.');
    }
    return specs.map((s) => [s]);
  }
  if (!providerGiven) return undefined;
  return [[validateSegment(deps.settings, {
    network_type: body['provider:network_type'],
    physical_network: body['provider:physical_network'],
    segmentation_id: body['provider:segmentation_id'],
  })]];
}

function parseCreate(req: FastifyRequest, deps: NetworkDeps, ctx: RequestContext, body: Record<string, unknown>): NewNetwork {
  rejectUnknown(body, CREATE_KEYS, 'POST');
  const projectId = String(body.project_id ?? body.tenant_id ?? ctx.projectId ?? '');
  if (body.project_id !== undefined && body.tenant_id !== undefined && body.project_id !== body.tenant_id) {
    throw typedError(400, 'HTTPBadRequest', "'project_id' and 'tenant_id' do not match");
  }
  if (!isAdmin(ctx) && projectId !== ctx.projectId) {
    throw typedError(400, 'HTTPBadRequest', "Specifying 'project_id' or 'tenant_id' other than the authenticated project in request requires admin privileges");
  }
  const shared = body.shared === undefined ? false : toBoolean('shared', body.shared);
  const external = body['router:external'] === undefined ? false : toBoolean('router:external', body['router:external']);
  const isDefault = body.is_default === undefined ? false : toBoolean('is_default', body.is_default);
  const policyTarget = { project_id: projectId, shared, 'router:external': external };
  authorize(req, deps, 'create_network', policyTarget);
  // attribute rules apply when the attribute is set to something else than its default
  if (shared) authorize(req, deps, 'create_network:shared', policyTarget);
  if (external) authorize(req, deps, 'create_network:router:external', policyTarget);
  if (isDefault) authorize(req, deps, 'create_network:is_default', policyTarget);
  if (PROVIDER_KEYS.some((k) => body[k] !== undefined)) authorize(req, deps, 'create_network:provider', policyTarget);
  if (body.segments !== undefined) authorize(req, deps, 'create_network:segments', policyTarget);

  const segments = requestedSegments(deps, body) ?? [tenantSegmentSpecs(deps.settings)];
  const timestamp = now();
  const row: NetworkTable = {
    id: newId(),
    project_id: projectId,
    name: body.name === undefined ? '' : toText('name', body.name),
    description: body.description === undefined ? '' : toText('description', body.description),
    admin_state_up: dbBool(body.admin_state_up === undefined ? true : toBoolean('admin_state_up', body.admin_state_up)),
    status: 'ACTIVE',
    shared: dbBool(shared),
    router_external: dbBool(external),
    mtu: 0,
    port_security_enabled: dbBool(body.port_security_enabled === undefined ? true : toBoolean('port_security_enabled', body.port_security_enabled)),
    availability_zone_hints: JSON.stringify(body.availability_zone_hints === undefined ? [] : availabilityZoneHints(deps, body.availability_zone_hints)),
    // is_default only means something on an external network (auto-allocated topology)
    is_default: dbBool(isDefault && external),
    created_at: timestamp,
    updated_at: timestamp,
    revision_number: 1,
  };
  let explicitMtu = false;
  if (body.mtu !== undefined && body.mtu !== null) {
    row.mtu = toInteger('mtu', body.mtu);
    if (row.mtu < MIN_MTU) throw attributeError('mtu', `'${row.mtu}' is too small - must be at least '${MIN_MTU}'`);
    explicitMtu = true;
  }
  const tags = body.tags === undefined ? [] : tagList(body.tags);
  return { row, segments, explicitMtu, tags };
}

async function checkDefaultExternal(tx: NetTx, row: NetworkTable): Promise<void> {
  if (!fromDbBool(row.is_default)) return;
  const other = await tx.selectFrom('network').select('id').where('is_default', '=', 1).where('router_external', '=', 1)
    .where('id', '!=', row.id).executeTakeFirst();
  if (other) throw typedError(409, 'DefaultExternalNetworkExists', `A default external network already exists: ${other.id}.`);
}

/** Inserts networks (one transaction for a bulk request), retrying lost allocation races. */
async function insertNetworks(deps: NetworkDeps, items: NewNetwork[]): Promise<NetworkTable[]> {
  return withAllocationRetry((attempt) => deps.data.write(async (tx) => {
    const perProject = new Map<string, number>();
    for (const item of items) perProject.set(item.row.project_id, (perProject.get(item.row.project_id) ?? 0) + 1);
    for (const [projectId, count] of perProject) await checkQuota(tx, deps, projectId, 'network', count);
    const rows: NetworkTable[] = [];
    for (const item of items) {
      const row = { ...item.row };
      await checkDefaultExternal(tx, row);
      await tx.insertInto('network').values(row).execute();
      const segments = await insertSegments(tx, deps.settings, row.id, item.segments, attempt, newId, row.created_at);
      const maxMtu = defaultMtu(deps.settings, segments);
      if (item.explicitMtu) {
        if (row.mtu > maxMtu) throw invalidInput(`Requested MTU is too big, maximum is ${maxMtu}.`);
      } else {
        row.mtu = maxMtu;
      }
      await tx.updateTable('network').set({ mtu: row.mtu }).where('id', '=', row.id).execute();
      if (item.tags.length) {
        await tx.insertInto('tag').values(item.tags.map((tag) => ({ resource_type: 'network', resource_id: row.id, tag }))).execute();
      }
      rows.push(row);
    }
    return rows;
  }));
}

// ---- update ----

async function applyUpdate(req: FastifyRequest, deps: NetworkDeps, ctx: RequestContext, id: string, body: Record<string, unknown>) {
  rejectUnknown(body, UPDATE_KEYS, 'PUT');
  return deps.data.write(async (tx) => {
    const row = await visibleNetwork(tx, ctx, id);
    const t = target(row);
    authorize(req, deps, 'update_network', t);
    for (const key of ['shared', 'router:external', 'is_default'] as const) {
      if (body[key] !== undefined) authorize(req, deps, `update_network:${key}`, t);
    }
    const providerGiven = PROVIDER_KEYS.some((k) => body[k] !== undefined) || body.segments !== undefined;
    if (providerGiven) authorize(req, deps, 'update_network:provider', t);

    const changes: Partial<NetworkTable> = {};
    if (body.name !== undefined) changes.name = toText('name', body.name);
    if (body.description !== undefined) changes.description = toText('description', body.description);
    if (body.admin_state_up !== undefined) changes.admin_state_up = dbBool(toBoolean('admin_state_up', body.admin_state_up));
    if (body.port_security_enabled !== undefined) changes.port_security_enabled = dbBool(toBoolean('port_security_enabled', body.port_security_enabled));

    const segments = await tx.selectFrom('network_segment').selectAll().where('network_id', '=', id).orderBy('segment_index').execute();
    if (providerGiven) {
      // ML2 cannot move a network to other segments; repeating the current values is fine
      const current = segments.length === 1 ? segmentView(segments[0]!) : undefined;
      const same = body.segments === undefined && current
        && PROVIDER_KEYS.every((k) => body[k] === undefined || String(body[k]) === String(current[k]));
      if (!same) throw invalidInput('Plugin does not support updating provider attributes.');
    }
    if (body.mtu !== undefined && body.mtu !== null) {
      const mtu = toInteger('mtu', body.mtu);
      if (mtu < MIN_MTU) throw attributeError('mtu', `'${mtu}' is too small - must be at least '${MIN_MTU}'`);
      const maxMtu = defaultMtu(deps.settings, segments);
      if (mtu > maxMtu) throw invalidInput(`Requested MTU is too big, maximum is ${maxMtu}.`);
      changes.mtu = mtu;
    }
    if (body.shared !== undefined) {
      const shared = toBoolean('shared', body.shared);
      if (!shared && fromDbBool(row.shared)) {
        const foreign = await tx.selectFrom('port').select('id').where('network_id', '=', id).where('project_id', '!=', row.project_id)
          .where('device_owner', 'not like', 'network:%').executeTakeFirst();
        if (foreign) {
          throw inUse('InvalidSharedSetting', `Unable to reconfigure sharing settings for network ${id}. Multiple tenants are using it.`);
        }
      }
      changes.shared = dbBool(shared);
    }
    if (body['router:external'] !== undefined) {
      const external = toBoolean('router:external', body['router:external']);
      if (!external && fromDbBool(row.router_external)) {
        const gateway = await tx.selectFrom('port').select('id').where('network_id', '=', id)
          .where('device_owner', 'in', ['network:router_gateway', 'network:floatingip']).executeTakeFirst();
        if (gateway) {
          throw inUse('ExternalNetworkInUse', `External network ${id} cannot be updated to be made non-external, since it has existing gateway ports.`);
        }
        changes.is_default = 0;
      }
      changes.router_external = dbBool(external);
    }
    if (body.is_default !== undefined) {
      const external = changes.router_external ?? row.router_external;
      changes.is_default = dbBool(toBoolean('is_default', body.is_default) && fromDbBool(external));
    }
    const updated: NetworkTable = { ...row, ...changes, updated_at: now(), revision_number: Number(row.revision_number) + 1 };
    await checkDefaultExternal(tx, updated);
    await tx.updateTable('network')
      .set({ ...changes, updated_at: updated.updated_at, revision_number: updated.revision_number })
      .where('id', '=', id).execute();
    return showOne(req, deps, tx, updated);
  });
}

// ---- delete ----

/** Ports a network's deletion removes with it (Neutron's auto-delete owners). */
const autoDeleted = (deviceOwner: string) => deviceOwner.startsWith('network:dhcp');

async function deleteNetwork(req: FastifyRequest, deps: NetworkDeps, ctx: RequestContext, id: string): Promise<void> {
  await deps.data.write(async (tx) => {
    const row = await visibleNetwork(tx, ctx, id);
    authorize(req, deps, 'delete_network', target(row));
    const ports = await tx.selectFrom('port').select(['id', 'device_owner']).where('network_id', '=', id).execute();
    if (ports.some((p) => !autoDeleted(p.device_owner))) {
      throw inUse('NetworkInUse', `Unable to complete operation on network ${id}. There are one or more ports still in use on the network.`);
    }
    const portIds = ports.map((p) => p.id);
    const subnetIds = (await tx.selectFrom('subnet').select('id').where('network_id', '=', id).execute()).map((s) => s.id);
    await tx.deleteFrom('ip_allocation').where('network_id', '=', id).execute();
    if (portIds.length) {
      await tx.deleteFrom('port_security_group').where('port_id', 'in', portIds).execute();
      await tx.deleteFrom('tag').where('resource_type', '=', 'port').where('resource_id', 'in', portIds).execute();
      await tx.deleteFrom('port').where('id', 'in', portIds).execute();
    }
    if (subnetIds.length) {
      await tx.deleteFrom('tag').where('resource_type', '=', 'subnet').where('resource_id', 'in', subnetIds).execute();
      await tx.deleteFrom('subnet').where('id', 'in', subnetIds).execute();
    }
    await tx.deleteFrom('network_segment').where('network_id', '=', id).execute();
    await deleteTags(tx, 'network', id);
    await tx.deleteFrom('network').where('id', '=', id).execute();
  });
}

// ---- routes ----

export function registerNetworks(app: FastifyInstance, deps: NetworkDeps): void {
  app.post('/v2.0/networks', async (req, reply) => {
    const ctx = contextOf(req);
    const body = req.body as Record<string, unknown> | undefined;
    const bulk = Array.isArray(body?.networks);
    const requests = bulk ? (body!.networks as unknown[]) : [resourceBody(body, 'network')];
    if (bulk && !requests.length) throw typedError(400, 'HTTPBadRequest', 'Resources required');
    const items = requests.map((r) => {
      if (r === null || typeof r !== 'object' || Array.isArray(r)) throw typedError(400, 'HTTPBadRequest', 'Resource body required');
      return parseCreate(req, deps, ctx, r as Record<string, unknown>);
    });
    const rows = await insertNetworks(deps, items);
    for (const row of rows) await publishNetworkUpdated(deps, row.id);
    const rel = await relationsOf(deps.data.db, rows.map((r) => r.id));
    const views = rows.map((row) => networkView(deps, row, rel, allowed(req, deps, 'get_network:provider', target(row))));
    reply.code(201);
    return bulk ? { networks: views } : { network: views[0] };
  });

  app.get('/v2.0/networks', async (req) => {
    const ctx = contextOf(req);
    const q = parseListQuery(req.query as Record<string, unknown>);
    let query = deps.data.db.selectFrom('network').selectAll();
    if (!isAdmin(ctx)) {
      query = query.where((eb) => eb.or([eb('project_id', '=', ctx.projectId ?? ''), eb('shared', '=', 1), eb('router_external', '=', 1)]));
    }
    const rows = (await query.execute()).filter((row) => allowed(req, deps, 'get_network', target(row)));
    const rel = await relationsOf(deps.data.db, rows.length <= 500 ? rows.map((r) => r.id) : undefined);
    const views = rows.map((row) => networkView(deps, row, rel, allowed(req, deps, 'get_network:provider', target(row))));
    if (!isAdmin(ctx)) {
      // provider filters are admin-only: a caller who cannot see the attributes cannot filter on them
      for (const key of [...PROVIDER_KEYS, 'segments']) delete q.filters[key];
    }
    return listResponse(req, deps, 'networks', views, q);
  });

  app.get<{ Params: { id: string } }>('/v2.0/networks/:id', async (req) => {
    const ctx = contextOf(req);
    const row = await visibleNetwork(deps.data.db, ctx, req.params.id);
    if (!allowed(req, deps, 'get_network', target(row))) throw notFoundError('Network', row.id);
    const view = await showOne(req, deps, deps.data.db, row);
    return { network: selectFields(view, parseListQuery(req.query as Record<string, unknown>).fields) };
  });

  app.put<{ Params: { id: string } }>('/v2.0/networks/:id', async (req) => {
    const ctx = contextOf(req);
    const body = resourceBody(req.body, 'network');
    const network = await applyUpdate(req, deps, ctx, req.params.id, body);
    await publishNetworkUpdated(deps, req.params.id);
    return { network };
  });

  app.delete<{ Params: { id: string } }>('/v2.0/networks/:id', async (req, reply) => {
    await deleteNetwork(req, deps, contextOf(req), req.params.id);
    await publishNetworkDeleted(deps, req.params.id);
    reply.code(204);
    return null;
  });
}
