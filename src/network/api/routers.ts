// /v2.0/routers: CRUD, the external gateway, extra routes, and add/remove_router_interface.
// The rules (gateway port, interface ports, route next hops) live in ../l3/routers.ts.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { RequestContext } from '../../core/auth/index.ts';
import { typedError } from '../../core/http/index.ts';
import type { NetTx } from '../db/database.ts';
import type { RouterTable } from '../db/schema.ts';
import { allowed, authorize, contextOf, isAdmin, listResponse, newId, now, resourceBody, selectFields, parseListQuery, type NetworkDeps } from './common.ts';
import { checkQuota } from '../quota/enforce.ts';
import { publishRouterDeleted, publishRouterUpdated } from '../agent/events.ts';
import { routerNotFound, badRouterRequest } from '../l3/errors.ts';
import {
  addInterface, deleteRouter, removeInterface, setGateway, validateRoutes, type Caller, type GatewayInfo, type Route,
} from '../l3/routers.ts';
import { routerViews } from '../l3/views.ts';
import {
  addressAttr, boolAttr, checkAttributes, cidrAttr, dictAttr, httpBadRequest, idAttr, listAttr, owningProject, stringAttr, tagsAttr,
} from '../l3/input.ts';

const CREATABLE = ['name', 'description', 'admin_state_up', 'external_gateway_info', 'tenant_id', 'project_id', 'distributed', 'ha',
  'availability_zone_hints', 'flavor_id', 'tags'];
const UPDATABLE = ['name', 'description', 'admin_state_up', 'external_gateway_info', 'routes', 'distributed', 'ha'];
const READ_ONLY = ['id', 'status', 'created_at', 'updated_at', 'revision_number', 'availability_zones', 'routes', 'tenant_id', 'project_id',
  'availability_zone_hints', 'flavor_id', 'tags'];
/** attributes only admins see (get_router:<attr>) */
const ADMIN_VIEW_ATTRS = ['distributed', 'ha'];

const callerOf = (ctx: RequestContext): Caller => ({ projectId: ctx.projectId ?? '', admin: isAdmin(ctx) });

function parseGateway(value: unknown): GatewayInfo | null {
  if (value === null) return null;
  const info = dictAttr(value, 'external_gateway_info');
  if (Object.keys(info).length === 0) return null;
  const extra = Object.keys(info).filter((k) => !['network_id', 'enable_snat', 'external_fixed_ips'].includes(k));
  if (extra.length) throw httpBadRequest(`Invalid input for external_gateway_info. Reason: Unexpected keys supplied: ${extra.join(', ')}.`);
  if (info.network_id === undefined) throw httpBadRequest('Invalid input for external_gateway_info. Reason: Validation of dictionary\'s keys failed. Expected keys: {\'network_id\'} Provided keys: {}.');
  const out: GatewayInfo = { network_id: idAttr(info.network_id, 'network_id') };
  if (info.enable_snat !== undefined) out.enable_snat = boolAttr(info.enable_snat, 'enable_snat');
  if (info.external_fixed_ips !== undefined) {
    out.external_fixed_ips = listAttr(info.external_fixed_ips, 'external_fixed_ips').map((item) => {
      const ip = dictAttr(item, 'external_fixed_ips');
      const entry: { subnet_id?: string; ip_address?: string } = {};
      if (ip.subnet_id !== undefined) entry.subnet_id = idAttr(ip.subnet_id, 'subnet_id');
      if (ip.ip_address !== undefined) entry.ip_address = addressAttr(ip.ip_address, 'ip_address');
      return entry;
    });
  }
  return out;
}

function parseRoutes(value: unknown): Route[] {
  if (value === null) return [];
  return listAttr(value, 'routes').map((item) => {
    const r = dictAttr(item, 'routes');
    const extra = Object.keys(r).filter((k) => k !== 'destination' && k !== 'nexthop');
    if (extra.length || r.destination === undefined || r.nexthop === undefined) {
      throw httpBadRequest(`Invalid input for routes. Reason: Validation of dictionary's keys failed. Expected keys: {'destination', 'nexthop'} Provided keys: {${Object.keys(r).map((k) => `'${k}'`).join(', ')}}.`);
    }
    return { destination: cidrAttr(r.destination, 'routes'), nexthop: addressAttr(r.nexthop, 'routes') };
  });
}

/** Policy on the sub-attributes a request sets (Neutron checks only those present). */
function authorizeAttributes(req: FastifyRequest, deps: NetworkDeps, action: 'create' | 'update', body: Record<string, unknown>, target: Record<string, unknown>): void {
  const gw = body.external_gateway_info;
  if (gw && typeof gw === 'object') {
    for (const key of ['enable_snat', 'external_fixed_ips']) {
      if ((gw as Record<string, unknown>)[key] !== undefined) authorize(req, deps, `${action}_router:external_gateway_info:${key}`, target);
    }
  }
  for (const key of ['distributed', 'ha']) if (body[key] !== undefined) authorize(req, deps, `${action}_router:${key}`, target);
}

export async function loadRouterRow(db: NetworkDeps['data']['db'] | NetTx, id: string): Promise<RouterTable | undefined> {
  return db.selectFrom('router').selectAll().where('id', '=', id).executeTakeFirst();
}

async function viewsFor(req: FastifyRequest, deps: NetworkDeps, db: NetworkDeps['data']['db'] | NetTx, rows: RouterTable[]) {
  const views = await routerViews(db, rows, { availabilityZone: deps.settings.defaultAvailabilityZone });
  return views.map((v) => {
    for (const attr of ADMIN_VIEW_ATTRS) if (!allowed(req, deps, `get_router:${attr}`, v)) delete v[attr];
    return v;
  });
}

/** The router if the caller may see it, else 404 (another project's router is not found). */
async function visibleRouter(req: FastifyRequest, deps: NetworkDeps, db: NetworkDeps['data']['db'] | NetTx, id: string): Promise<RouterTable> {
  const row = await loadRouterRow(db, id);
  if (!row || !allowed(req, deps, 'get_router', { project_id: row.project_id })) throw routerNotFound(id);
  return row;
}

async function publishRouter(req: FastifyRequest, deps: NetworkDeps, id: string): Promise<void> {
  const row = await loadRouterRow(deps.data.db, id);
  if (!row) return;
  const [view] = await routerViews(deps.data.db, [row], { availabilityZone: deps.settings.defaultAvailabilityZone });
  await publishRouterUpdated(deps, view as { id: string });
}

export function registerRouters(app: FastifyInstance, deps: NetworkDeps): void {
  app.get('/v2.0/routers', async (req) => {
    const ctx = contextOf(req);
    const q = parseListQuery(req.query as Record<string, unknown>);
    let query = deps.data.db.selectFrom('router').selectAll();
    if (!isAdmin(ctx)) query = query.where('project_id', '=', ctx.projectId ?? '');
    const rows = (await query.execute()).filter((r) => allowed(req, deps, 'get_router', { project_id: r.project_id }));
    return listResponse(req, deps, 'routers', await viewsFor(req, deps, deps.data.db, rows), q);
  });

  app.get('/v2.0/routers/:id', async (req) => {
    const { id } = req.params as { id: string };
    const row = await visibleRouter(req, deps, deps.data.db, id);
    const [view] = await viewsFor(req, deps, deps.data.db, [row]);
    return { router: selectFields(view!, parseListQuery(req.query as Record<string, unknown>).fields) };
  });

  app.post('/v2.0/routers', async (req, reply: FastifyReply) => {
    const ctx = contextOf(req);
    const body = resourceBody(req.body, 'router');
    checkAttributes(body, CREATABLE, ['id', 'status', 'routes', 'availability_zones', 'created_at', 'updated_at', 'revision_number'], 'POST');
    const projectId = owningProject(ctx, body);
    const target = { ...body, project_id: projectId };
    authorize(req, deps, 'create_router', target);
    authorizeAttributes(req, deps, 'create', body, target);
    const name = stringAttr(body, 'name') ?? '';
    const description = stringAttr(body, 'description') ?? '';
    const gateway = body.external_gateway_info === undefined ? null : parseGateway(body.external_gateway_info);
    const hints = body.availability_zone_hints === undefined ? [] : listAttr(body.availability_zone_hints, 'availability_zone_hints');
    for (const h of hints) {
      if (typeof h !== 'string' || h.length > 255) throw httpBadRequest(`Invalid input for availability_zone_hints. Reason: '${String(h)}' is not a valid string.`);
      if (h !== deps.settings.defaultAvailabilityZone) throw typedErrorAz(h);
    }
    if (body.flavor_id !== undefined && body.flavor_id !== null) throw badRouterRequest('Router flavors are not supported');
    const tags = body.tags === undefined ? [] : tagsAttr(body.tags);
    const id = newId();
    const caller = callerOf(ctx);
    await deps.data.write(async (tx) => {
      await checkQuota(tx, deps, projectId, 'router');
      const at = now();
      await tx.insertInto('router').values({
        id, project_id: projectId, name, description,
        admin_state_up: body.admin_state_up === undefined ? 1 : boolAttr(body.admin_state_up, 'admin_state_up') ? 1 : 0,
        status: 'ACTIVE', gw_network_id: null, gw_port_id: null, enable_snat: 1,
        distributed: body.distributed === undefined ? 0 : boolAttr(body.distributed, 'distributed') ? 1 : 0,
        ha: body.ha === undefined ? 0 : boolAttr(body.ha, 'ha') ? 1 : 0,
        routes: '[]', availability_zone_hints: JSON.stringify(hints),
        created_at: at, updated_at: at, revision_number: 0,
      }).execute();
      for (const tag of tags) await tx.insertInto('tag').values({ resource_type: 'router', resource_id: id, tag }).execute();
      if (gateway) {
        await setGateway(tx, deps, (await loadRouterRow(tx, id))!, gateway, caller);
        // the gateway is part of the creation: the new router starts at revision 0
        await tx.updateTable('router').set({ revision_number: 0, updated_at: at }).where('id', '=', id).execute();
      }
    });
    const [view] = await viewsFor(req, deps, deps.data.db, [(await loadRouterRow(deps.data.db, id))!]);
    await publishRouterUpdated(deps, view as { id: string });
    reply.code(201);
    return { router: view };
  });

  app.put('/v2.0/routers/:id', async (req) => {
    const ctx = contextOf(req);
    const { id } = req.params as { id: string };
    const body = resourceBody(req.body, 'router');
    checkAttributes(body, UPDATABLE, READ_ONLY, 'PUT');
    const existing = await visibleRouter(req, deps, deps.data.db, id);
    const target = { ...existing, ...body, project_id: existing.project_id };
    authorize(req, deps, 'update_router', target);
    authorizeAttributes(req, deps, 'update', body, target);
    const changes: Partial<RouterTable> = {};
    const name = stringAttr(body, 'name');
    if (name !== undefined) changes.name = name;
    const description = stringAttr(body, 'description');
    if (description !== undefined) changes.description = description;
    if (body.admin_state_up !== undefined) changes.admin_state_up = boolAttr(body.admin_state_up, 'admin_state_up') ? 1 : 0;
    if (body.distributed !== undefined) changes.distributed = boolAttr(body.distributed, 'distributed') ? 1 : 0;
    if (body.ha !== undefined) changes.ha = boolAttr(body.ha, 'ha') ? 1 : 0;
    const gateway = body.external_gateway_info === undefined ? undefined : parseGateway(body.external_gateway_info);
    const routes = body.routes === undefined ? undefined : parseRoutes(body.routes);
    const caller = callerOf(ctx);
    await deps.data.write(async (tx) => {
      const row = await loadRouterRow(tx, id);
      if (!row) throw routerNotFound(id);
      if (gateway !== undefined) await setGateway(tx, deps, row, gateway, caller);
      if (routes !== undefined) changes.routes = JSON.stringify(await validateRoutes(tx, id, routes));
      // one update is one revision, however many steps it took
      await tx.updateTable('router')
        .set({ ...changes, updated_at: now(), revision_number: Number(row.revision_number) + 1 })
        .where('id', '=', id).execute();
    });
    const [view] = await viewsFor(req, deps, deps.data.db, [(await loadRouterRow(deps.data.db, id))!]);
    await publishRouterUpdated(deps, view as { id: string });
    return { router: view };
  });

  app.delete('/v2.0/routers/:id', async (req, reply: FastifyReply) => {
    const { id } = req.params as { id: string };
    const existing = await visibleRouter(req, deps, deps.data.db, id);
    authorize(req, deps, 'delete_router', { ...existing });
    await deps.data.write(async (tx) => {
      const row = await loadRouterRow(tx, id);
      if (!row) throw routerNotFound(id);
      await deleteRouter(tx, deps, row);
    });
    await publishRouterDeleted(deps, id);
    reply.code(204);
    return reply.send();
  });

  const interfaceAction = (action: 'add_router_interface' | 'remove_router_interface') => async (req: FastifyRequest) => {
    const ctx = contextOf(req);
    const { id } = req.params as { id: string };
    const body = req.body;
    if (body === null || typeof body !== 'object' || Array.isArray(body)) {
      throw httpBadRequest('Resource body required');
    }
    const b = body as Record<string, unknown>;
    const request: { subnet_id?: string; port_id?: string } = {};
    if (b.subnet_id !== undefined) request.subnet_id = idAttr(b.subnet_id, 'subnet_id');
    if (b.port_id !== undefined) request.port_id = idAttr(b.port_id, 'port_id');
    if (!request.subnet_id && !request.port_id) throw badRouterRequest('Either subnet_id or port_id must be specified');
    if (action === 'add_router_interface' && request.subnet_id && request.port_id) {
      throw badRouterRequest('Cannot specify both subnet-id and port-id');
    }
    const existing = await visibleRouter(req, deps, deps.data.db, id);
    authorize(req, deps, action, { ...existing });
    const caller = callerOf(ctx);
    const info = await deps.data.write(async (tx) => {
      const row = await loadRouterRow(tx, id);
      if (!row) throw routerNotFound(id);
      return action === 'add_router_interface'
        ? addInterface(tx, deps, row, request, caller)
        : removeInterface(tx, deps, row, request, caller);
    });
    await publishRouter(req, deps, id);
    return info;
  };
  app.put('/v2.0/routers/:id/add_router_interface', interfaceAction('add_router_interface'));
  app.put('/v2.0/routers/:id/remove_router_interface', interfaceAction('remove_router_interface'));
}

function typedErrorAz(zone: string) {
  return typedError(404, 'AvailabilityZoneNotFound', `AvailabilityZone ${zone} could not be found.`);
}
