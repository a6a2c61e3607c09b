// The interface between the networking API and the per-host agents (see README.md beside this
// file for the contract). The API publishes what changed; agents make their host match and
// report port status back over the 'network' topic, which the API process serves.
//
// Publish only after the change is committed (after deps.data.write resolves): an agent that
// reacts at once must read the new state. Publishing never fails a request: the state is in
// the database, and an agent that missed an event catches up with get_ports_for_host.
import type { Bus, BusServer } from '../../core/bus/index.ts';
import type { NetDb, NetTx } from '../db/database.ts';
import type { NetworkDeps } from '../api/common.ts';
import { loadPortViews, type PortView } from '../ports/port-view.ts';

/** Agents serve this topic (each on its host): casts to `network-agent.<host>`, fanouts to all. */
export const AGENT_TOPIC = 'network-agent';
/** The API side serves this topic: agents call it to report status and to fetch state. */
export const SERVER_TOPIC = 'network';

export const agentTopic = (host: string) => `${AGENT_TOPIC}.${host}`;

/** Port statuses an agent may report. */
export const PORT_STATUSES = ['ACTIVE', 'DOWN', 'BUILD', 'ERROR'] as const;
export type PortStatus = (typeof PORT_STATUSES)[number];

export interface AgentSegment {
  network_type: string;
  physical_network: string | null;
  segmentation_id: number | null;
}

export interface AgentSubnet {
  id: string;
  network_id: string;
  ip_version: number;
  cidr: string;
  gateway_ip: string | null;
  enable_dhcp: boolean;
  dns_nameservers: string[];
  host_routes: { destination: string; nexthop: string }[];
  allocation_pools: { start: string; end: string }[];
  ipv6_ra_mode: string | null;
  ipv6_address_mode: string | null;
}

export interface AgentNetwork {
  id: string;
  project_id: string;
  name: string;
  admin_state_up: boolean;
  mtu: number;
  shared: boolean;
  router_external: boolean;
  port_security_enabled: boolean;
  /** in segment order; the first is the provider:* attributes */
  segments: AgentSegment[];
  subnets: AgentSubnet[];
}

/** What an agent gets for a port: the full (admin) port view plus its network and subnets. */
export interface AgentPort extends PortView {
  network: AgentNetwork;
}

const bool = (v: unknown) => Boolean(Number(v));
const json = <T>(text: string | null | undefined, fallback: T): T => {
  try {
    return text ? (JSON.parse(text) as T) : fallback;
  } catch {
    return fallback;
  }
};

/** The networks (with segments and subnets) as agents see them. */
export async function loadAgentNetworks(db: NetDb | NetTx, ids: string[]): Promise<Map<string, AgentNetwork>> {
  const out = new Map<string, AgentNetwork>();
  if (ids.length === 0) return out;
  const unique = [...new Set(ids)];
  const [networks, segments, subnets] = await Promise.all([
    db.selectFrom('network').selectAll().where('id', 'in', unique).execute(),
    db.selectFrom('network_segment').selectAll().where('network_id', 'in', unique).orderBy('segment_index').execute(),
    db.selectFrom('subnet').selectAll().where('network_id', 'in', unique).orderBy('created_at').orderBy('id').execute(),
  ]);
  for (const n of networks) {
    out.set(n.id, {
      id: n.id, project_id: n.project_id, name: n.name, admin_state_up: bool(n.admin_state_up), mtu: Number(n.mtu),
      shared: bool(n.shared), router_external: bool(n.router_external), port_security_enabled: bool(n.port_security_enabled),
      segments: [], subnets: [],
    });
  }
  for (const s of segments) {
    out.get(s.network_id)?.segments.push({
      network_type: s.network_type,
      physical_network: s.physical_network || null,
      segmentation_id: s.segmentation_id === null ? null : Number(s.segmentation_id),
    });
  }
  for (const s of subnets) {
    out.get(s.network_id)?.subnets.push({
      id: s.id, network_id: s.network_id, ip_version: Number(s.ip_version), cidr: s.cidr, gateway_ip: s.gateway_ip,
      enable_dhcp: bool(s.enable_dhcp), dns_nameservers: json(s.dns_nameservers, []), host_routes: json(s.host_routes, []),
      allocation_pools: json(s.allocation_pools, []), ipv6_ra_mode: s.ipv6_ra_mode, ipv6_address_mode: s.ipv6_address_mode,
    });
  }
  return out;
}

export async function toAgentPorts(db: NetDb | NetTx, ports: PortView[]): Promise<AgentPort[]> {
  const networks = await loadAgentNetworks(db, ports.map((p) => p.network_id));
  return ports.flatMap((p) => {
    const network = networks.get(p.network_id);
    return network ? [{ ...p, network }] : [];
  });
}

async function send(deps: NetworkDeps, what: string, publish: () => Promise<void>): Promise<void> {
  try {
    await publish();
  } catch (err) {
    deps.logger.warn({ err, event: what }, 'could not publish a network agent event');
  }
}

/** port_bound → network-agent.<host>: a port is now bound to that host; plug it. */
export async function publishPortBound(deps: NetworkDeps, port: PortView): Promise<void> {
  const host = port['binding:host_id'];
  if (!host) return;
  await send(deps, 'port_bound', async () => {
    const [agentPort] = await toAgentPorts(deps.data.db, [port]);
    if (agentPort) await deps.bus.cast(agentTopic(host), 'port_bound', { port: agentPort });
  });
}

/** port_updated → network-agent.<host>: a bound port changed (addresses, groups, state ...). */
export async function publishPortUpdated(deps: NetworkDeps, port: PortView): Promise<void> {
  const host = port['binding:host_id'];
  if (!host) return;
  await send(deps, 'port_updated', async () => {
    const [agentPort] = await toAgentPorts(deps.data.db, [port]);
    if (agentPort) await deps.bus.cast(agentTopic(host), 'port_updated', { port: agentPort });
  });
}

/**
 * port_unbound → network-agent.<host>: the port left that host (host cleared or changed, or
 * the port was deleted: `deleted` true). `port` is the port as it was on that host.
 */
export async function publishPortUnbound(deps: NetworkDeps, port: PortView, host: string, deleted = false): Promise<void> {
  if (!host) return;
  await send(deps, 'port_unbound', async () => {
    const network = (await loadAgentNetworks(deps.data.db, [port.network_id])).get(port.network_id);
    const payload = { ...port, 'binding:host_id': host, network: network ?? null };
    await deps.bus.cast(agentTopic(host), 'port_unbound', { port: payload, deleted });
  });
}

/** network_updated → every agent: a network or its subnets changed (or a network was created). */
export async function publishNetworkUpdated(deps: NetworkDeps, networkId: string): Promise<void> {
  await send(deps, 'network_updated', async () => {
    const network = (await loadAgentNetworks(deps.data.db, [networkId])).get(networkId);
    if (network) await deps.bus.fanout(AGENT_TOPIC, 'network_updated', { network });
  });
}

/** network_deleted → every agent. */
export async function publishNetworkDeleted(deps: NetworkDeps, networkId: string): Promise<void> {
  await send(deps, 'network_deleted', () => deps.bus.fanout(AGENT_TOPIC, 'network_deleted', { network_id: networkId }));
}

/**
 * router_updated → every agent: a router, its interfaces, gateway, routes or floating IPs
 * changed. `router` is the router's API view (with external_gateway_info); agents read its
 * ports with get_ports and the floating IPs from `floatingips` when the caller includes them.
 */
export async function publishRouterUpdated(deps: NetworkDeps, router: { id: string } & Record<string, unknown>): Promise<void> {
  await send(deps, 'router_updated', () => deps.bus.fanout(AGENT_TOPIC, 'router_updated', { router_id: router.id, router }));
}

/** router_deleted → every agent. */
export async function publishRouterDeleted(deps: NetworkDeps, routerId: string): Promise<void> {
  await send(deps, 'router_deleted', () => deps.bus.fanout(AGENT_TOPIC, 'router_deleted', { router_id: routerId }));
}

/** security_group_updated → every agent: a group or its rules changed, or it was deleted. */
export async function publishSecurityGroupUpdated(deps: NetworkDeps, securityGroupId: string, deleted = false): Promise<void> {
  await send(deps, 'security_group_updated', () =>
    deps.bus.fanout(AGENT_TOPIC, 'security_group_updated', { security_group_id: securityGroupId, deleted }));
}

/** The groups with their rules, for agents building firewalls (get_security_groups). */
export async function loadAgentSecurityGroups(db: NetDb | NetTx, ids: string[]) {
  if (ids.length === 0) return [];
  const [groups, rules] = await Promise.all([
    db.selectFrom('security_group').selectAll().where('id', 'in', ids).execute(),
    db.selectFrom('security_group_rule').selectAll().where('security_group_id', 'in', ids).orderBy('id').execute(),
  ]);
  // members of remote groups: the addresses of the ports in them
  const remoteIds = [...new Set(rules.map((r) => r.remote_group_id).filter((r): r is string => !!r))];
  const members = remoteIds.length
    ? await db.selectFrom('port_security_group').innerJoin('ip_allocation', 'ip_allocation.port_id', 'port_security_group.port_id')
      .select(['port_security_group.security_group_id', 'ip_allocation.ip_address'])
      .where('port_security_group.security_group_id', 'in', remoteIds).execute()
    : [];
  return groups.map((g) => ({
    id: g.id,
    project_id: g.project_id,
    name: g.name,
    stateful: bool(g.stateful),
    rules: rules.filter((r) => r.security_group_id === g.id).map((r) => ({
      id: r.id, direction: r.direction, ethertype: r.ethertype, protocol: r.protocol,
      port_range_min: r.port_range_min === null ? null : Number(r.port_range_min),
      port_range_max: r.port_range_max === null ? null : Number(r.port_range_max),
      remote_ip_prefix: r.remote_ip_prefix, remote_group_id: r.remote_group_id,
    })),
    remote_group_members: Object.fromEntries(
      remoteIds.filter((id) => rules.some((r) => r.security_group_id === g.id && r.remote_group_id === id))
        .map((id) => [id, members.filter((m) => m.security_group_id === id).map((m) => m.ip_address).sort()]),
    ),
  }));
}

/**
 * Records a status an agent reported. Ignored (changed: false) when the port is gone, when the
 * report comes from a host the port is no longer bound to, or when nothing changes.
 */
export async function updatePortStatus(deps: NetworkDeps, args: { port_id: string; status: string; host?: string }) {
  const status = String(args?.status ?? '').toUpperCase();
  if (!(PORT_STATUSES as readonly string[]).includes(status)) throw new Error(`invalid port status '${args?.status}'`);
  const portId = String(args.port_id ?? '');
  const changed = await deps.data.write(async (tx) => {
    const row = await tx.selectFrom('port').select(['status', 'binding_host_id', 'revision_number']).where('id', '=', portId).executeTakeFirst();
    if (!row || row.status === status) return false;
    if (args.host && row.binding_host_id !== args.host) return false;
    await tx.updateTable('port')
      .set({ status, updated_at: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'), revision_number: Number(row.revision_number) + 1 })
      .where('id', '=', portId).execute();
    return true;
  });
  return { port_id: portId, status, changed };
}

/** The API side of the interface: serves topic 'network' for the agents. */
export function serveNetworkRpc(deps: NetworkDeps, bus: Bus, host: string): Promise<BusServer> {
  return bus.serve(SERVER_TOPIC, host, {
    update_port_status: (args) => updatePortStatus(deps, args),
    get_ports_for_host: async (args: { host: string }) =>
      toAgentPorts(deps.data.db, await loadPortViews(deps.data.db, { host: String(args?.host ?? '') })),
    get_ports: async (args: { port_ids?: string[]; network_id?: string; device_id?: string }) => {
      const filter = { ids: args?.port_ids, network_id: args?.network_id, device_id: args?.device_id };
      if (!filter.ids && !filter.network_id && !filter.device_id) throw new Error('get_ports needs port_ids, network_id or device_id');
      return toAgentPorts(deps.data.db, await loadPortViews(deps.data.db, filter));
    },
    get_network: async (args: { network_id: string }) =>
      (await loadAgentNetworks(deps.data.db, [String(args?.network_id ?? '')])).get(String(args?.network_id ?? '')) ?? null,
    get_security_groups: async (args: { security_group_ids: string[] }) =>
      loadAgentSecurityGroups(deps.data.db, (args?.security_group_ids ?? []).map(String)),
  });
}
