// How a port looks in the API, built from its row, its addresses (ip_allocation), its
// security groups and tags. One loader serves the ports API, routers, floating IPs and the
// agent interface, in a fixed number of queries whatever the number of ports.
import type { Selectable } from 'kysely';
import type { NetDb, NetTx } from '../db/database.ts';
import type { PortTable } from '../db/schema.ts';
import { tagsFor } from '../db/tags.ts';

export type PortRow = Selectable<PortTable>;

/** The resource type of ports in the tag table (the table's name, as the tags API uses). */
export const PORT_TAG_TYPE = 'port';

export interface FixedIp {
  subnet_id: string;
  ip_address: string;
}

export interface PortView {
  id: string;
  name: string;
  network_id: string;
  project_id: string;
  tenant_id: string;
  mac_address: string;
  admin_state_up: boolean;
  status: string;
  device_id: string;
  device_owner: string;
  fixed_ips: FixedIp[];
  allowed_address_pairs: { ip_address: string; mac_address: string }[];
  extra_dhcp_opts: { opt_name: string; opt_value: string; ip_version: number }[];
  security_groups: string[];
  port_security_enabled: boolean;
  description: string;
  dns_name: string;
  'binding:host_id': string;
  'binding:vif_type': string;
  'binding:vif_details': Record<string, unknown>;
  'binding:vnic_type': string;
  'binding:profile': Record<string, unknown>;
  tags: string[];
  created_at: string;
  updated_at: string;
  revision_number: number;
}

/** The binding attributes only admins see (Neutron's get_port:binding:* policies). */
export const ADMIN_BINDING_KEYS = ['binding:host_id', 'binding:vif_type', 'binding:vif_details', 'binding:profile'] as const;

export interface PortFilter {
  ids?: string[];
  network_id?: string;
  device_id?: string;
  device_owner?: string;
  /** bound to this host */
  host?: string;
  /** the ports a project may see: its own and those on its networks (Neutron's get_port) */
  visibleTo?: string;
}

const json = <T>(text: string, fallback: T): T => {
  try {
    return text ? (JSON.parse(text) as T) : fallback;
  } catch {
    return fallback;
  }
};

/** Sorts addresses as numbers (IPv4 before IPv6), so a port's fixed_ips are in address order. */
function addressKey(ip: string): string {
  if (ip.includes(':')) return `6${ip}`;
  return `4${ip.split('.').map((o) => o.padStart(3, '0')).join('.')}`;
}

export function portView(row: PortRow, fixedIps: FixedIp[], securityGroups: string[], tags: string[]): PortView {
  return {
    id: row.id,
    name: row.name,
    network_id: row.network_id,
    project_id: row.project_id,
    tenant_id: row.project_id,
    mac_address: row.mac_address,
    admin_state_up: Boolean(Number(row.admin_state_up)),
    status: row.status,
    device_id: row.device_id,
    device_owner: row.device_owner,
    fixed_ips: [...fixedIps].sort((a, b) => (addressKey(a.ip_address) < addressKey(b.ip_address) ? -1 : 1)),
    allowed_address_pairs: json(row.allowed_address_pairs, []),
    extra_dhcp_opts: json(row.extra_dhcp_opts, []),
    security_groups: [...securityGroups].sort(),
    port_security_enabled: Boolean(Number(row.port_security_enabled)),
    description: row.description,
    dns_name: row.dns_name,
    'binding:host_id': row.binding_host_id,
    'binding:vif_type': row.binding_vif_type,
    'binding:vif_details': json(row.binding_vif_details, {}),
    'binding:vnic_type': row.binding_vnic_type,
    'binding:profile': json(row.binding_profile, {}),
    tags,
    created_at: row.created_at,
    updated_at: row.updated_at,
    revision_number: Number(row.revision_number),
  };
}

/** The ports matching the filter (all when omitted), as the API shows them to an admin. */
export async function loadPortViews(db: NetDb | NetTx, filter: PortFilter = {}): Promise<PortView[]> {
  if (filter.ids && filter.ids.length === 0) return [];
  const restrict = <Q extends { where: (...a: any[]) => Q }>(q: Q): Q => {
    let r = q;
    if (filter.ids) r = r.where('port.id', 'in', filter.ids);
    if (filter.network_id !== undefined) r = r.where('port.network_id', '=', filter.network_id);
    if (filter.device_id !== undefined) r = r.where('port.device_id', '=', filter.device_id);
    if (filter.device_owner !== undefined) r = r.where('port.device_owner', '=', filter.device_owner);
    if (filter.host !== undefined) r = r.where('port.binding_host_id', '=', filter.host);
    if (filter.visibleTo !== undefined) {
      const project = filter.visibleTo;
      r = r.where((eb: any) => eb.or([
        eb('port.project_id', '=', project),
        eb('port.network_id', 'in', eb.selectFrom('network').select('network.id').where('network.project_id', '=', project)),
      ]));
    }
    return r;
  };
  const rows = await restrict(db.selectFrom('port').selectAll('port') as any).execute() as PortRow[];
  if (rows.length === 0) return [];
  const whole = !filter.ids && filter.network_id === undefined && filter.device_id === undefined && filter.device_owner === undefined
    && filter.host === undefined && filter.visibleTo === undefined;
  // Addresses and groups of exactly these ports: by id for a few, by the same filter for many.
  const portIds = rows.map((r) => r.id);
  const few = portIds.length <= 500;
  let ipq = db.selectFrom('ip_allocation').innerJoin('port', 'port.id', 'ip_allocation.port_id')
    .select(['ip_allocation.port_id', 'ip_allocation.subnet_id', 'ip_allocation.ip_address']);
  let sgq = db.selectFrom('port_security_group').innerJoin('port', 'port.id', 'port_security_group.port_id')
    .select(['port_security_group.port_id', 'port_security_group.security_group_id']);
  if (few) {
    ipq = ipq.where('ip_allocation.port_id', 'in', portIds);
    sgq = sgq.where('port_security_group.port_id', 'in', portIds);
  } else if (!whole) {
    ipq = restrict(ipq as any);
    sgq = restrict(sgq as any);
  }
  const [ips, groups, tags] = await Promise.all([
    ipq.execute(),
    sgq.execute(),
    tagsFor(db, PORT_TAG_TYPE, few ? portIds : undefined),
  ]);
  const ipsOf = new Map<string, FixedIp[]>();
  for (const ip of ips) {
    const list = ipsOf.get(ip.port_id) ?? [];
    list.push({ subnet_id: ip.subnet_id, ip_address: ip.ip_address });
    ipsOf.set(ip.port_id, list);
  }
  const groupsOf = new Map<string, string[]>();
  for (const g of groups) {
    const list = groupsOf.get(g.port_id) ?? [];
    list.push(g.security_group_id);
    groupsOf.set(g.port_id, list);
  }
  return rows.map((row) => portView(row, ipsOf.get(row.id) ?? [], groupsOf.get(row.id) ?? [], tags.get(row.id) ?? []));
}

/** One port's view, undefined when it does not exist. */
export async function loadPortView(db: NetDb | NetTx, id: string): Promise<PortView | undefined> {
  return (await loadPortViews(db, { ids: [id] }))[0];
}
