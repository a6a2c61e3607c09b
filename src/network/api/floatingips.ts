// /v2.0/floatingips: allocate on an external network, associate with a port, disassociate,
// delete. The rules live in ../l3/floatingips.ts.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { NetTx } from '../db/database.ts';
import type { FloatingIpTable } from '../db/schema.ts';
import {
  allowed, authorize, contextOf, isAdmin, listResponse, newId, parseListQuery, resourceBody, selectFields, type NetworkDeps,
} from './common.ts';
import { checkQuota } from '../quota/enforce.ts';
import { publishRouterUpdated } from '../agent/events.ts';
import { floatingIpNotFound } from '../l3/errors.ts';
import { createFloatingIp, deleteFloatingIp, updateFloatingIp, type FloatingIpRequest } from '../l3/floatingips.ts';
import { floatingIpViews, routerViews } from '../l3/views.ts';
import { addressAttr, checkAttributes, httpBadRequest, idAttr, owningProject, stringAttr, tagsAttr } from '../l3/input.ts';

const CREATABLE = ['floating_network_id', 'floating_ip_address', 'subnet_id', 'port_id', 'fixed_ip_address', 'description',
  'tenant_id', 'project_id', 'dns_name', 'dns_domain', 'qos_policy_id', 'tags'];
const UPDATABLE = ['port_id', 'fixed_ip_address', 'description', 'qos_policy_id'];
const READ_ONLY = ['id', 'floating_network_id', 'floating_ip_address', 'router_id', 'status', 'tenant_id', 'project_id', 'subnet_id',
  'dns_name', 'dns_domain', 'port_details', 'port_forwardings', 'created_at', 'updated_at', 'revision_number', 'tags'];

type Db = NetworkDeps['data']['db'] | NetTx;

const loadRow = (db: Db, id: string): Promise<FloatingIpTable | undefined> =>
  db.selectFrom('floatingip').selectAll().where('id', '=', id).executeTakeFirst();

async function visibleFloatingIp(req: FastifyRequest, deps: NetworkDeps, id: string): Promise<FloatingIpTable> {
  const row = await loadRow(deps.data.db, id);
  if (!row || !allowed(req, deps, 'get_floatingip', { project_id: row.project_id })) throw floatingIpNotFound(id);
  return row;
}

function portIdAttr(value: unknown): string | null {
  return value === null ? null : idAttr(value, 'port_id');
}

function qosAttr(value: unknown): void {
  if (value !== undefined && value !== null) throw httpBadRequest('QoS policies are not supported for floating IPs');
}

/** Tells the agents about the routers a floating IP change touched. */
async function publishRouters(deps: NetworkDeps, routerIds: (string | null | undefined)[]): Promise<void> {
  const ids = [...new Set(routerIds.filter((r): r is string => !!r))];
  if (ids.length === 0) return;
  const rows = await deps.data.db.selectFrom('router').selectAll().where('id', 'in', ids).execute();
  for (const view of await routerViews(deps.data.db, rows, { availabilityZone: deps.settings.defaultAvailabilityZone })) {
    await publishRouterUpdated(deps, view as { id: string });
  }
}

async function viewOf(deps: NetworkDeps, id: string) {
  const row = await loadRow(deps.data.db, id);
  return (await floatingIpViews(deps.data.db, row ? [row] : []))[0]!;
}

export function registerFloatingIps(app: FastifyInstance, deps: NetworkDeps): void {
  app.get('/v2.0/floatingips', async (req) => {
    const ctx = contextOf(req);
    const q = parseListQuery(req.query as Record<string, unknown>);
    let query = deps.data.db.selectFrom('floatingip').selectAll();
    if (!isAdmin(ctx)) query = query.where('project_id', '=', ctx.projectId ?? '');
    const rows = (await query.execute()).filter((r) => allowed(req, deps, 'get_floatingip', { project_id: r.project_id }));
    return listResponse(req, deps, 'floatingips', await floatingIpViews(deps.data.db, rows), q);
  });

  app.get('/v2.0/floatingips/:id', async (req) => {
    const { id } = req.params as { id: string };
    const row = await visibleFloatingIp(req, deps, id);
    const [view] = await floatingIpViews(deps.data.db, [row]);
    return { floatingip: selectFields(view!, parseListQuery(req.query as Record<string, unknown>).fields) };
  });

  app.post('/v2.0/floatingips', async (req, reply: FastifyReply) => {
    const ctx = contextOf(req);
    const body = resourceBody(req.body, 'floatingip');
    checkAttributes(body, CREATABLE, ['id', 'router_id', 'status', 'port_details', 'port_forwardings', 'created_at', 'updated_at', 'revision_number'], 'POST');
    const projectId = owningProject(ctx, body);
    const target = { ...body, project_id: projectId };
    authorize(req, deps, 'create_floatingip', target);
    if (body.floating_ip_address !== undefined) authorize(req, deps, 'create_floatingip:floating_ip_address', target);
    if (body.floating_network_id === undefined) {
      throw httpBadRequest("Failed to parse request. Required attribute 'floating_network_id' not specified");
    }
    qosAttr(body.qos_policy_id);
    const request: FloatingIpRequest = {
      project_id: projectId,
      floating_network_id: idAttr(body.floating_network_id, 'floating_network_id'),
      description: stringAttr(body, 'description') ?? '',
      dns_name: stringAttr(body, 'dns_name'),
      dns_domain: stringAttr(body, 'dns_domain'),
    };
    if (body.floating_ip_address !== undefined && body.floating_ip_address !== null) {
      request.floating_ip_address = addressAttr(body.floating_ip_address, 'floating_ip_address');
    }
    if (body.subnet_id !== undefined && body.subnet_id !== null) request.subnet_id = idAttr(body.subnet_id, 'subnet_id');
    if (body.port_id !== undefined) request.port_id = portIdAttr(body.port_id);
    if (body.fixed_ip_address !== undefined && body.fixed_ip_address !== null) {
      request.fixed_ip_address = addressAttr(body.fixed_ip_address, 'fixed_ip_address');
    }
    const tags = body.tags === undefined ? [] : tagsAttr(body.tags);
    const id = newId();
    await deps.data.write(async (tx) => {
      await checkQuota(tx, deps, projectId, 'floatingip');
      await createFloatingIp(tx, deps, id, request, { projectId: ctx.projectId ?? '', admin: isAdmin(ctx) });
      for (const tag of tags) await tx.insertInto('tag').values({ resource_type: 'floatingip', resource_id: id, tag }).execute();
    });
    const view = await viewOf(deps, id);
    await publishRouters(deps, [view.router_id as string | null]);
    reply.code(201);
    return { floatingip: view };
  });

  app.put('/v2.0/floatingips/:id', async (req) => {
    const ctx = contextOf(req);
    const { id } = req.params as { id: string };
    const body = resourceBody(req.body, 'floatingip');
    checkAttributes(body, UPDATABLE, READ_ONLY, 'PUT');
    const existing = await visibleFloatingIp(req, deps, id);
    authorize(req, deps, 'update_floatingip', { ...existing, ...body, project_id: existing.project_id });
    qosAttr(body.qos_policy_id);
    const changes: { port_id?: string | null; fixed_ip_address?: string; description?: string } = {};
    if (body.port_id !== undefined) changes.port_id = portIdAttr(body.port_id);
    if (body.fixed_ip_address !== undefined && body.fixed_ip_address !== null) {
      changes.fixed_ip_address = addressAttr(body.fixed_ip_address, 'fixed_ip_address');
    }
    const description = stringAttr(body, 'description');
    if (description !== undefined) changes.description = description;
    const before = await deps.data.write(async (tx) => {
      const row = await loadRow(tx, id);
      if (!row) throw floatingIpNotFound(id);
      await updateFloatingIp(tx, row, changes, { projectId: ctx.projectId ?? '', admin: isAdmin(ctx) });
      return row;
    });
    const view = await viewOf(deps, id);
    await publishRouters(deps, [before.router_id, view.router_id as string | null]);
    return { floatingip: view };
  });

  app.delete('/v2.0/floatingips/:id', async (req, reply: FastifyReply) => {
    const { id } = req.params as { id: string };
    const existing = await visibleFloatingIp(req, deps, id);
    authorize(req, deps, 'delete_floatingip', { ...existing });
    const before = await deps.data.write(async (tx) => {
      const row = await loadRow(tx, id);
      if (!row) throw floatingIpNotFound(id);
      await deleteFloatingIp(tx, deps, row);
      return row;
    });
    await publishRouters(deps, [before.router_id]);
    reply.code(204);
    return reply.send();
  });
}
