// Router rules, in one place: the external gateway (a port on an external network), the
// interfaces (ports on tenant subnets, one subnet per port), and the extra routes, whose
// next hops must sit on a subnet the router is connected to. Every function runs inside the
// caller's write transaction; the API layer validates shapes and policy before calling here.
import type { NetTx } from '../db/database.ts';
import type { RouterTable, SubnetTable } from '../db/schema.ts';
import type { NetworkDeps } from '../api/common.ts';
import { notFoundError, now } from '../api/common.ts';
import { deleteTags } from '../db/tags.ts';
import { createPort, deletePort } from '../ports/create-port.ts';
import { cidrContains, cidrsOverlap, sameAddress } from './addresses.ts';
import {
  badRouterRequest, gatewayInUseByFloatingIp, invalidRoutes, portInUse, routerInUse, routerInterfaceInUseByFloatingIp,
  routerInterfaceInUseByRoute, routerInterfaceNotFound, routerInterfaceNotFoundForSubnet,
} from './errors.ts';

export const ROUTER_INTERFACE = 'network:router_interface';
export const ROUTER_GATEWAY = 'network:router_gateway';
/** Neutron caps a router's extra routes (max_routes). */
export const MAX_ROUTES = 30;

export interface Caller {
  projectId: string;
  admin: boolean;
}

export interface GatewayInfo {
  network_id: string;
  enable_snat?: boolean;
  external_fixed_ips?: { subnet_id?: string; ip_address?: string }[];
}

export interface Route {
  destination: string;
  nexthop: string;
}

/**
 * Which project owns the ports the cloud makes for itself (gateway and floating IP ports):
 * none, as in Neutron, which leaves their tenant_id empty so they count against no project's
 * port quota and appear in no project's port list; admins see them.
 */
export const infrastructurePortProject = (_ownerProject: string): string => '';

export async function bumpRouter(tx: NetTx, routerId: string, changes: Partial<RouterTable> = {}): Promise<void> {
  const row = await tx.selectFrom('router').select('revision_number').where('id', '=', routerId).executeTakeFirstOrThrow();
  await tx.updateTable('router')
    .set({ ...changes, updated_at: now(), revision_number: Number(row.revision_number) + 1 })
    .where('id', '=', routerId).execute();
}

/** The subnets a router is plugged into (through its gateway and its interfaces), with the address it holds on each. */
export async function connectedSubnets(tx: NetTx, routerId: string, portType?: string) {
  let q = tx.selectFrom('router_port')
    .innerJoin('ip_allocation', 'ip_allocation.port_id', 'router_port.port_id')
    .innerJoin('subnet', 'subnet.id', 'ip_allocation.subnet_id')
    .select(['router_port.port_id', 'router_port.port_type', 'ip_allocation.ip_address', 'subnet.id as subnet_id', 'subnet.cidr', 'subnet.network_id', 'subnet.project_id'])
    .where('router_port.router_id', '=', routerId);
  if (portType) q = q.where('router_port.port_type', '=', portType);
  return q.execute();
}

// ---- gateway ----

async function externalNetwork(tx: NetTx, networkId: string, caller: Caller) {
  const network = await tx.selectFrom('network').selectAll().where('id', '=', networkId).executeTakeFirst();
  if (!network) throw notFoundError('Network', networkId);
  if (!Number(network.router_external)) {
    const visible = caller.admin || network.project_id === caller.projectId || Number(network.shared) === 1;
    if (!visible) throw notFoundError('Network', networkId);
    throw badRouterRequest(`Network ${networkId} is not an external network`);
  }
  return network;
}

/** Floating IPs reaching the outside through this router's gateway. */
async function floatingIpsThrough(tx: NetTx, routerId: string): Promise<number> {
  const row = await tx.selectFrom('floatingip').select((eb) => eb.fn.countAll<number>().as('n')).where('router_id', '=', routerId).executeTakeFirst();
  return Number(row?.n ?? 0);
}

async function removeGatewayPort(tx: NetTx, deps: NetworkDeps, router: RouterTable): Promise<void> {
  if (!router.gw_port_id) return;
  await tx.deleteFrom('router_port').where('router_id', '=', router.id).where('port_id', '=', router.gw_port_id).execute();
  await deletePort(tx, deps, router.gw_port_id);
}

/**
 * Sets, changes or clears (info null) a router's external gateway. Changing the network or
 * clearing it is refused while floating IPs are associated through the router (Neutron:
 * RouterExternalGatewayInUseByFloatingIp); changing only enable_snat keeps the port; new
 * external_fixed_ips replace the port on the same network.
 */
export async function setGateway(tx: NetTx, deps: NetworkDeps, router: RouterTable, info: GatewayInfo | null, caller: Caller): Promise<void> {
  if (!info) {
    if (!router.gw_network_id) return;
    if (await floatingIpsThrough(tx, router.id)) throw gatewayInUseByFloatingIp(router.id, router.gw_network_id);
    await removeGatewayPort(tx, deps, router);
    await bumpRouter(tx, router.id, { gw_network_id: null, gw_port_id: null, enable_snat: 1 });
    return;
  }
  const network = await externalNetwork(tx, info.network_id, caller);
  const snat = info.enable_snat === undefined ? 1 : info.enable_snat ? 1 : 0;
  if (router.gw_network_id === network.id && router.gw_port_id && info.external_fixed_ips === undefined) {
    await bumpRouter(tx, router.id, { enable_snat: info.enable_snat === undefined ? router.enable_snat : snat });
    return;
  }
  if (router.gw_network_id && router.gw_network_id !== network.id && await floatingIpsThrough(tx, router.id)) {
    throw gatewayInUseByFloatingIp(router.id, router.gw_network_id);
  }
  await removeGatewayPort(tx, deps, router);
  // the new gateway may not share a subnet with one of the router's interfaces
  const interfaces = await connectedSubnets(tx, router.id, ROUTER_INTERFACE);
  const portId = await createPort(tx, deps, {
    project_id: infrastructurePortProject(router.project_id),
    network_id: network.id,
    name: '',
    device_owner: ROUTER_GATEWAY,
    device_id: router.id,
    fixed_ips: info.external_fixed_ips,
    security_groups: null,
  });
  const gwSubnets = await tx.selectFrom('ip_allocation').innerJoin('subnet', 'subnet.id', 'ip_allocation.subnet_id')
    .select(['subnet.id', 'subnet.cidr']).where('ip_allocation.port_id', '=', portId).execute();
  for (const g of gwSubnets) {
    for (const i of interfaces) {
      if (cidrsOverlap(g.cidr, i.cidr)) {
        throw badRouterRequest(`Cidr ${g.cidr} of subnet ${g.id} overlaps with cidr ${i.cidr} of subnet ${i.subnet_id}`);
      }
    }
  }
  await tx.insertInto('router_port').values({ router_id: router.id, port_id: portId, port_type: ROUTER_GATEWAY }).execute();
  await bumpRouter(tx, router.id, { gw_network_id: network.id, gw_port_id: portId, enable_snat: snat });
}

// ---- routes ----

/** Neutron's extraroute checks: each next hop on a connected subnet and not the router's own address. */
export async function validateRoutes(tx: NetTx, routerId: string, routes: Route[]): Promise<Route[]> {
  const unique: Route[] = [];
  for (const r of routes) if (!unique.some((u) => u.destination === r.destination && u.nexthop === r.nexthop)) unique.push(r);
  if (unique.length > MAX_ROUTES) throw invalidRoutes(routes, `exceeded maximum ${MAX_ROUTES}`);
  const connected = await connectedSubnets(tx, routerId);
  for (const route of unique) {
    if (connected.some((c) => sameAddress(c.ip_address, route.nexthop))) {
      throw invalidRoutes(route, 'the nexthop is used by router');
    }
    if (!connected.some((c) => cidrContains(c.cidr, route.nexthop))) {
      throw invalidRoutes(route, 'the nexthop is not connected with router');
    }
  }
  return unique;
}

// ---- interfaces ----

export interface InterfaceInfo {
  id: string;
  tenant_id: string;
  project_id: string;
  port_id: string;
  network_id: string;
  subnet_id: string;
  subnet_ids: string[];
}

function visibleSubnet(subnet: SubnetTable, networkShared: boolean, caller: Caller): boolean {
  return caller.admin || subnet.project_id === caller.projectId || networkShared;
}

async function loadSubnet(tx: NetTx, subnetId: string, caller: Caller): Promise<SubnetTable> {
  const subnet = await tx.selectFrom('subnet').selectAll().where('id', '=', subnetId).executeTakeFirst();
  if (!subnet) throw notFoundError('Subnet', subnetId);
  const network = await tx.selectFrom('network').select(['shared']).where('id', '=', subnet.network_id).executeTakeFirst();
  if (!visibleSubnet(subnet, Number(network?.shared) === 1, caller)) throw notFoundError('Subnet', subnetId);
  return subnet;
}

/** A router may not hold two ports on one subnet, nor on subnets whose CIDRs overlap. */
async function checkNoDuplicateSubnet(tx: NetTx, routerId: string, subnet: SubnetTable): Promise<void> {
  for (const c of await connectedSubnets(tx, routerId)) {
    if (c.subnet_id === subnet.id) throw badRouterRequest(`Router already has a port on subnet ${subnet.id}`);
    if (cidrsOverlap(c.cidr, subnet.cidr)) {
      throw badRouterRequest(`Cidr ${subnet.cidr} of subnet ${subnet.id} overlaps with cidr ${c.cidr} of subnet ${c.subnet_id}`);
    }
  }
}

export async function addInterface(
  tx: NetTx, deps: NetworkDeps, router: RouterTable, request: { subnet_id?: string; port_id?: string }, caller: Caller,
): Promise<InterfaceInfo> {
  let portId: string;
  let subnet: SubnetTable;
  let portProject: string;
  if (request.port_id !== undefined) {
    const port = await tx.selectFrom('port').selectAll().where('id', '=', request.port_id).executeTakeFirst();
    if (!port || !(caller.admin || port.project_id === caller.projectId)) throw notFoundError('Port', request.port_id);
    if (port.device_owner || port.device_id) throw portInUse(port.id, port.network_id, port.device_id || port.device_owner);
    const ips = await tx.selectFrom('ip_allocation').select(['subnet_id', 'ip_address']).where('port_id', '=', port.id).execute();
    if (ips.length === 0) throw badRouterRequest('Router port must have at least one fixed IP');
    if (ips.length > 1) throw badRouterRequest('Cannot have multiple IPv4 subnets on router port');
    subnet = (await tx.selectFrom('subnet').selectAll().where('id', '=', ips[0]!.subnet_id).executeTakeFirstOrThrow());
    if (request.subnet_id !== undefined && request.subnet_id !== subnet.id) throw badRouterRequest('Cannot specify both subnet-id and port-id');
    await checkNoDuplicateSubnet(tx, router.id, subnet);
    const row = await tx.selectFrom('port').select('revision_number').where('id', '=', port.id).executeTakeFirstOrThrow();
    await tx.updateTable('port')
      .set({ device_owner: ROUTER_INTERFACE, device_id: router.id, updated_at: now(), revision_number: Number(row.revision_number) + 1 })
      .where('id', '=', port.id).execute();
    portId = port.id;
    portProject = port.project_id;
  } else {
    subnet = await loadSubnet(tx, request.subnet_id!, caller);
    if (!subnet.gateway_ip) throw badRouterRequest('Subnet for router interface must have a gateway IP');
    await checkNoDuplicateSubnet(tx, router.id, subnet);
    portId = await createPort(tx, deps, {
      project_id: subnet.project_id,
      network_id: subnet.network_id,
      name: '',
      device_owner: ROUTER_INTERFACE,
      device_id: router.id,
      fixed_ips: [{ subnet_id: subnet.id, ip_address: subnet.gateway_ip }],
      security_groups: null,
    });
    portProject = subnet.project_id;
  }
  await tx.insertInto('router_port').values({ router_id: router.id, port_id: portId, port_type: ROUTER_INTERFACE }).execute();
  await bumpRouter(tx, router.id);
  return {
    id: router.id, tenant_id: portProject, project_id: portProject, port_id: portId,
    network_id: subnet.network_id, subnet_id: subnet.id, subnet_ids: [subnet.id],
  };
}

export async function removeInterface(
  tx: NetTx, deps: NetworkDeps, router: RouterTable, request: { subnet_id?: string; port_id?: string }, caller: Caller,
): Promise<InterfaceInfo> {
  const interfaces = await connectedSubnets(tx, router.id, ROUTER_INTERFACE);
  let found: (typeof interfaces)[number] | undefined;
  if (request.port_id !== undefined) {
    const ofPort = interfaces.filter((i) => i.port_id === request.port_id);
    const owned = await tx.selectFrom('router_port').select('port_id')
      .where('router_id', '=', router.id).where('port_id', '=', request.port_id).where('port_type', '=', ROUTER_INTERFACE).executeTakeFirst();
    if (!owned) throw routerInterfaceNotFound(router.id, request.port_id);
    if (request.subnet_id !== undefined) {
      found = ofPort.find((i) => i.subnet_id === request.subnet_id);
      if (!found) throw routerInterfaceNotFoundForSubnet(router.id, request.subnet_id);
    } else {
      found = ofPort[0];
    }
    if (!found) {
      // an interface port without addresses: nothing can depend on it
      await tx.deleteFrom('router_port').where('router_id', '=', router.id).where('port_id', '=', request.port_id).execute();
      const port = await tx.selectFrom('port').select(['network_id', 'project_id']).where('id', '=', request.port_id).executeTakeFirst();
      await deletePort(tx, deps, request.port_id);
      await bumpRouter(tx, router.id);
      return {
        id: router.id, tenant_id: port?.project_id ?? router.project_id, project_id: port?.project_id ?? router.project_id,
        port_id: request.port_id, network_id: port?.network_id ?? '', subnet_id: '', subnet_ids: [],
      };
    }
  } else {
    await loadSubnet(tx, request.subnet_id!, caller);
    found = interfaces.find((i) => i.subnet_id === request.subnet_id);
    if (!found) throw routerInterfaceNotFoundForSubnet(router.id, request.subnet_id!);
  }
  const subnetIds = interfaces.filter((i) => i.port_id === found!.port_id).map((i) => i.subnet_id);
  for (const subnetId of subnetIds) {
    const subnet = interfaces.find((i) => i.subnet_id === subnetId)!;
    const fips = await tx.selectFrom('floatingip').select(['fixed_ip_address']).where('router_id', '=', router.id).execute();
    if (fips.some((f) => f.fixed_ip_address && cidrContains(subnet.cidr, f.fixed_ip_address))) {
      throw routerInterfaceInUseByFloatingIp(router.id, subnetId);
    }
    const routes = JSON.parse(router.routes || '[]') as Route[];
    const stillConnected = (await connectedSubnets(tx, router.id)).filter((c) => c.port_id !== found!.port_id);
    if (routes.some((r) => cidrContains(subnet.cidr, r.nexthop) && !stillConnected.some((c) => cidrContains(c.cidr, r.nexthop)))) {
      throw routerInterfaceInUseByRoute(router.id, subnetId);
    }
  }
  await tx.deleteFrom('router_port').where('router_id', '=', router.id).where('port_id', '=', found.port_id).execute();
  await deletePort(tx, deps, found.port_id);
  await bumpRouter(tx, router.id);
  return {
    id: router.id, tenant_id: found.project_id, project_id: found.project_id, port_id: found.port_id,
    network_id: found.network_id, subnet_id: found.subnet_id, subnet_ids: subnetIds,
  };
}

export async function deleteRouter(tx: NetTx, deps: NetworkDeps, router: RouterTable): Promise<void> {
  const ports = await tx.selectFrom('router_port').select('port_id').where('router_id', '=', router.id).where('port_type', '=', ROUTER_INTERFACE).execute();
  if (ports.length) throw routerInUse(router.id);
  if (await floatingIpsThrough(tx, router.id)) throw routerInUse(router.id, 'still has floating IPs associated');
  await removeGatewayPort(tx, deps, router);
  await tx.deleteFrom('router_port').where('router_id', '=', router.id).execute();
  await tx.deleteFrom('router').where('id', '=', router.id).execute();
  await deleteTags(tx, 'router', router.id);
}
