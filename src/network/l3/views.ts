// How routers and floating IPs look in the API, built in a fixed number of queries.
import type { Selectable } from 'kysely';
import type { NetDb, NetTx } from '../db/database.ts';
import type { FloatingIpTable, RouterTable } from '../db/schema.ts';
import { tagsFor } from '../db/tags.ts';
import { standardView } from '../api/common.ts';

const bool = (v: unknown) => Boolean(Number(v));
const json = <T>(text: string | null | undefined, fallback: T): T => {
  try {
    return text ? (JSON.parse(text) as T) : fallback;
  } catch {
    return fallback;
  }
};

export interface RouterViewOptions {
  availabilityZone: string;
}

export async function routerViews(db: NetDb | NetTx, rows: Selectable<RouterTable>[], opts: RouterViewOptions): Promise<Record<string, unknown>[]> {
  if (rows.length === 0) return [];
  const few = rows.length <= 500;
  const gwPorts = rows.map((r) => r.gw_port_id).filter((p): p is string => !!p);
  let ipQuery = db.selectFrom('ip_allocation').innerJoin('router_port', 'router_port.port_id', 'ip_allocation.port_id')
    .select(['ip_allocation.port_id', 'ip_allocation.subnet_id', 'ip_allocation.ip_address'])
    .where('router_port.port_type', '=', 'network:router_gateway');
  if (few) ipQuery = ipQuery.where('ip_allocation.port_id', 'in', gwPorts.length ? gwPorts : ['']);
  const [ips, tags] = await Promise.all([
    ipQuery.orderBy('ip_allocation.subnet_id').orderBy('ip_allocation.ip_address').execute(),
    tagsFor(db, 'router', few ? rows.map((r) => r.id) : undefined),
  ]);
  return rows.map((r) => ({
    id: r.id,
    name: r.name,
    description: r.description,
    admin_state_up: bool(r.admin_state_up),
    status: r.status,
    external_gateway_info: r.gw_network_id
      ? {
        network_id: r.gw_network_id,
        enable_snat: bool(r.enable_snat),
        external_fixed_ips: ips.filter((i) => i.port_id === r.gw_port_id).map((i) => ({ subnet_id: i.subnet_id, ip_address: i.ip_address })),
      }
      : null,
    routes: json(r.routes, []),
    distributed: bool(r.distributed),
    ha: bool(r.ha),
    availability_zone_hints: json(r.availability_zone_hints, []),
    availability_zones: [opts.availabilityZone],
    flavor_id: null,
    project_id: r.project_id,
    tenant_id: r.project_id,
    ...standardView(r, tags.get(r.id) ?? []),
  }));
}

export async function floatingIpViews(db: NetDb | NetTx, rows: Selectable<FloatingIpTable>[]): Promise<Record<string, unknown>[]> {
  if (rows.length === 0) return [];
  const few = rows.length <= 500;
  const fixedPorts = [...new Set(rows.map((r) => r.fixed_port_id).filter((p): p is string => !!p))];
  const [ports, tags] = await Promise.all([
    fixedPorts.length
      ? db.selectFrom('port').select(['id', 'name', 'network_id', 'mac_address', 'admin_state_up', 'status', 'device_id', 'device_owner'])
        .where('id', 'in', fixedPorts).execute()
      : Promise.resolve([]),
    tagsFor(db, 'floatingip', few ? rows.map((r) => r.id) : undefined),
  ]);
  const byId = new Map(ports.map((p) => [p.id, p]));
  return rows.map((r) => {
    const port = r.fixed_port_id ? byId.get(r.fixed_port_id) : undefined;
    return {
      id: r.id,
      floating_ip_address: r.floating_ip_address,
      floating_network_id: r.floating_network_id,
      router_id: r.router_id,
      port_id: r.fixed_port_id,
      fixed_ip_address: r.fixed_ip_address,
      status: r.status,
      description: r.description,
      dns_domain: r.dns_domain,
      dns_name: r.dns_name,
      port_details: port
        ? {
          name: port.name, network_id: port.network_id, mac_address: port.mac_address, admin_state_up: bool(port.admin_state_up),
          status: port.status, device_id: port.device_id, device_owner: port.device_owner,
        }
        : null,
      port_forwardings: [],
      qos_policy_id: null,
      project_id: r.project_id,
      tenant_id: r.project_id,
      ...standardView(r, tags.get(r.id) ?? []),
    };
  });
}
