// Network IP availability (the network-ip-availability extension, admin only):
//   GET /v2.0/network-ip-availabilities          → {"network_ip_availabilities": [...]}
//   GET /v2.0/network-ip-availabilities/{id}     → {"network_ip_availability": {...}}
// total_ips is the size of the allocation pools, used_ips the addresses allocated, per
// subnet and summed per network. Filters: network_id, network_name, project_id/tenant_id,
// ip_version (which also narrows the subnets shown).
import type { FastifyInstance } from 'fastify';
import type { NetDb } from '../db/database.ts';
import type { NetworkTable } from '../db/schema.ts';
import { authorize, listResponse, notFoundError, parseListQuery, selectFields, type NetworkDeps } from './common.ts';
import { poolsSize, storedPools } from '../ipam/pools.ts';

async function availability(db: NetDb, networks: NetworkTable[], ipVersion?: number): Promise<Record<string, unknown>[]> {
  const ids = networks.map((n) => n.id);
  if (!ids.length) return [];
  let subQ = db.selectFrom('subnet').select(['id', 'name', 'cidr', 'ip_version', 'network_id', 'allocation_pools']).orderBy('created_at').orderBy('id');
  if (ids.length <= 500) subQ = subQ.where('network_id', 'in', ids);
  if (ipVersion !== undefined) subQ = subQ.where('ip_version', '=', ipVersion);
  const subnets = await subQ.execute();
  let usedQ = db.selectFrom('ip_allocation').select((eb) => ['subnet_id', eb.fn.countAll<number | string>().as('n')]).groupBy('subnet_id');
  if (ids.length <= 500) usedQ = usedQ.where('network_id', 'in', ids);
  const used = new Map((await usedQ.execute()).map((r) => [r.subnet_id, Number(r.n)]));
  const out: Record<string, unknown>[] = [];
  for (const network of networks) {
    const mine = subnets.filter((s) => s.network_id === network.id);
    if (ipVersion !== undefined && !mine.length) continue;
    const perSubnet = mine.map((s) => ({
      subnet_id: s.id,
      subnet_name: s.name,
      cidr: s.cidr,
      ip_version: Number(s.ip_version),
      total_ips: Number(poolsSize(storedPools(s.allocation_pools))),
      used_ips: used.get(s.id) ?? 0,
    }));
    out.push({
      // `id` lets limit/marker paging work; Neutron pages these by network id too
      id: network.id,
      network_id: network.id,
      network_name: network.name,
      project_id: network.project_id,
      tenant_id: network.project_id,
      total_ips: perSubnet.reduce((n, s) => n + s.total_ips, 0),
      used_ips: perSubnet.reduce((n, s) => n + s.used_ips, 0),
      subnet_ip_availability: perSubnet,
    });
  }
  return out;
}

const withoutId = (view: Record<string, unknown>) => {
  const { id: _id, ...rest } = view;
  return rest;
};

export function registerIpAvailability(app: FastifyInstance, deps: NetworkDeps): void {
  app.get('/v2.0/network-ip-availabilities', async (req) => {
    authorize(req, deps, 'get_network_ip_availability');
    const q = parseListQuery(req.query as Record<string, unknown>);
    const version = q.filters.ip_version?.[0];
    delete q.filters.ip_version;
    const networks = await deps.data.db.selectFrom('network').selectAll().execute();
    const views = await availability(deps.data.db, networks, version === undefined ? undefined : Number(version));
    const body = listResponse(req, deps, 'network_ip_availabilities', views, { ...q, fields: undefined });
    body.network_ip_availabilities = (body.network_ip_availabilities as Record<string, unknown>[]).map((v) => selectFields(withoutId(v), q.fields));
    return body;
  });

  app.get<{ Params: { id: string } }>('/v2.0/network-ip-availabilities/:id', async (req) => {
    authorize(req, deps, 'get_network_ip_availability');
    const network = await deps.data.db.selectFrom('network').selectAll().where('id', '=', req.params.id).executeTakeFirst();
    if (!network) throw notFoundError('Network', req.params.id);
    const [view] = await availability(deps.data.db, [network]);
    return { network_ip_availability: selectFields(withoutId(view!), parseListQuery(req.query as Record<string, unknown>).fields) };
  });
}
