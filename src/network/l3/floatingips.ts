// Floating IP rules: the address is a port on an external network (device_owner
// network:floatingip); association ties it to one fixed IPv4 address of a tenant port whose
// subnet is an interface of a router with its gateway on that external network. Status follows
// association (ACTIVE / DOWN): our noop datapath has nothing further to wait for.
import type { NetTx } from '../db/database.ts';
import type { FloatingIpTable } from '../db/schema.ts';
import type { NetworkDeps } from '../api/common.ts';
import { notFoundError, now } from '../api/common.ts';
import { deleteTags } from '../db/tags.ts';
import { isUniqueViolation } from '../../core/db/errors.ts';
import { createPort, deletePort } from '../ports/create-port.ts';
import { cidrContains, parseAddress, sameAddress } from './addresses.ts';
import {
  badFloatingIpRequest, externalGatewayForFloatingIpNotFound, floatingIpPortAlreadyAssociated, ipAddressAlreadyAllocated,
} from './errors.ts';
import { ROUTER_INTERFACE, infrastructurePortProject, type Caller } from './routers.ts';

export const FLOATING_IP_OWNER = 'network:floatingip';

export interface Association {
  fixed_port_id: string;
  fixed_ip_address: string;
  router_id: string;
}

/**
 * Works out what associating `portId` (optionally at `fixedIp`) with a floating IP on
 * `floatingNetworkId` means: which fixed address and which router, or Neutron's fault.
 */
export async function resolveAssociation(
  tx: NetTx, fip: { id: string; project_id: string; floating_network_id: string; floating_ip_address: string },
  portId: string, fixedIp: string | undefined, caller: Caller,
): Promise<Association> {
  const port = await tx.selectFrom('port').selectAll().where('id', '=', portId).executeTakeFirst();
  if (!port || !(caller.admin || port.project_id === caller.projectId)) throw notFoundError('Port', portId);
  if (port.project_id !== fip.project_id && !caller.admin) throw notFoundError('Port', portId);
  if (port.project_id !== fip.project_id) {
    throw badFloatingIpRequest(`Cannot create floating IP and bind it to Port ${portId}, since that port is owned by a different tenant`);
  }
  if (port.device_owner === FLOATING_IP_OWNER || port.device_owner === 'network:router_gateway' || port.device_owner === ROUTER_INTERFACE) {
    throw badFloatingIpRequest(`Port ${portId} has owner ${port.device_owner} and therefore cannot be associated with a floating IP`);
  }
  const ips = (await tx.selectFrom('ip_allocation').select(['subnet_id', 'ip_address']).where('port_id', '=', portId).execute())
    .filter((ip) => parseAddress(ip.ip_address)?.version === 4);
  let chosen: { subnet_id: string; ip_address: string } | undefined;
  if (fixedIp !== undefined) {
    chosen = ips.find((ip) => sameAddress(ip.ip_address, fixedIp));
    if (!chosen) throw badFloatingIpRequest(`Port ${portId} does not have fixed ip ${fixedIp}`);
  } else {
    if (ips.length === 0) throw badFloatingIpRequest(`Cannot add floating IP to port ${portId} that has no fixed IPv4 addresses`);
    if (ips.length > 1) {
      throw badFloatingIpRequest(`Port ${portId} has multiple fixed IPv4 addresses.  Must provide a specific IPv4 address when assigning a floating IP`);
    }
    chosen = ips[0]!;
  }
  // routers with an interface on that subnet and their gateway on the floating network
  const routers = await tx.selectFrom('router_port')
    .innerJoin('ip_allocation', 'ip_allocation.port_id', 'router_port.port_id')
    .innerJoin('router', 'router.id', 'router_port.router_id')
    .select('router.id')
    .where('router_port.port_type', '=', ROUTER_INTERFACE)
    .where('ip_allocation.subnet_id', '=', chosen.subnet_id)
    .where('router.gw_network_id', '=', fip.floating_network_id)
    .orderBy('router.id')
    .execute();
  if (routers.length === 0) throw externalGatewayForFloatingIpNotFound(fip.floating_network_id, chosen.subnet_id, portId);
  const taken = await tx.selectFrom('floatingip').select(['id'])
    .where('fixed_port_id', '=', portId).where('fixed_ip_address', '=', chosen.ip_address)
    .where('floating_network_id', '=', fip.floating_network_id).where('id', '!=', fip.id).executeTakeFirst();
  if (taken) throw floatingIpPortAlreadyAssociated(fip.floating_ip_address, fip.id, portId, chosen.ip_address, fip.floating_network_id);
  return { fixed_port_id: portId, fixed_ip_address: chosen.ip_address, router_id: routers[0]!.id };
}

export interface FloatingIpRequest {
  project_id: string;
  floating_network_id: string;
  floating_ip_address?: string;
  subnet_id?: string;
  port_id?: string | null;
  fixed_ip_address?: string;
  description: string;
  dns_name?: string;
  dns_domain?: string;
}

export async function createFloatingIp(tx: NetTx, deps: NetworkDeps, id: string, request: FloatingIpRequest, caller: Caller): Promise<void> {
  const network = await tx.selectFrom('network').selectAll().where('id', '=', request.floating_network_id).executeTakeFirst();
  if (!network) throw notFoundError('Network', request.floating_network_id);
  if (!Number(network.router_external)) {
    throw badFloatingIpRequest(`Network ${network.id} is not a valid external network`);
  }
  const subnets = await tx.selectFrom('subnet').select(['id', 'cidr', 'ip_version', 'network_id']).where('network_id', '=', network.id).execute();
  const v4 = subnets.filter((s) => Number(s.ip_version) === 4);
  if (request.subnet_id !== undefined) {
    const subnet = await tx.selectFrom('subnet').select(['id', 'network_id', 'ip_version']).where('id', '=', request.subnet_id).executeTakeFirst();
    if (!subnet) throw notFoundError('Subnet', request.subnet_id);
    if (subnet.network_id !== network.id) {
      throw badFloatingIpRequest(`Subnet ${subnet.id} is not on external network ${network.id}`);
    }
    if (Number(subnet.ip_version) !== 4) throw badFloatingIpRequest(`Subnet ${subnet.id} is not an IPv4 subnet`);
  }
  if (v4.length === 0) throw badFloatingIpRequest(`Network ${network.id} does not contain any IPv4 subnet`);
  let fixedIps: { subnet_id?: string; ip_address?: string }[] | undefined;
  if (request.floating_ip_address !== undefined) {
    const holder = (request.subnet_id ? v4.filter((s) => s.id === request.subnet_id) : v4)
      .find((s) => cidrContains(s.cidr, request.floating_ip_address!));
    if (holder) {
      const used = await tx.selectFrom('ip_allocation').select('port_id')
        .where('subnet_id', '=', holder.id).where('ip_address', '=', request.floating_ip_address).executeTakeFirst();
      if (used) throw ipAddressAlreadyAllocated(request.floating_ip_address, holder.id);
    }
    // an address outside every subnet: IPAM answers with Neutron's InvalidIpForNetwork/Subnet
    fixedIps = [{ subnet_id: holder?.id ?? request.subnet_id, ip_address: request.floating_ip_address }];
  } else if (request.subnet_id !== undefined) {
    fixedIps = [{ subnet_id: request.subnet_id }];
  } else if (v4.length !== subnets.length) {
    // the floating address is IPv4: keep the port off the network's IPv6 subnets
    fixedIps = [{ subnet_id: v4[0]!.id }];
  }
  let portId: string;
  try {
    portId = await createPort(tx, deps, {
      project_id: infrastructurePortProject(request.project_id),
      network_id: network.id,
      name: '',
      device_owner: FLOATING_IP_OWNER,
      device_id: id,
      fixed_ips: fixedIps,
      security_groups: null,
    });
  } catch (err) {
    if (request.floating_ip_address !== undefined && isUniqueViolation(err)) {
      throw ipAddressAlreadyAllocated(request.floating_ip_address, fixedIps?.[0]?.subnet_id ?? '');
    }
    throw err;
  }
  const address = (await tx.selectFrom('ip_allocation').select('ip_address').where('port_id', '=', portId).execute())
    .map((a) => a.ip_address).find((a) => parseAddress(a)?.version === 4);
  if (!address) throw badFloatingIpRequest(`Network ${network.id} does not contain any IPv4 subnet`);
  const fip = { id, project_id: request.project_id, floating_network_id: network.id, floating_ip_address: address };
  const association = request.port_id ? await resolveAssociation(tx, fip, request.port_id, request.fixed_ip_address, caller) : undefined;
  const at = now();
  await associationUnique(fip, association, () => tx.insertInto('floatingip').values({
    ...fip,
    description: request.description,
    floating_port_id: portId,
    fixed_port_id: association?.fixed_port_id ?? null,
    fixed_ip_address: association?.fixed_ip_address ?? null,
    router_id: association?.router_id ?? null,
    status: association ? 'ACTIVE' : 'DOWN',
    dns_name: request.dns_name ?? '',
    dns_domain: request.dns_domain ?? '',
    created_at: at,
    updated_at: at,
    revision_number: 0,
  }).execute());
}

/** Runs the write of an association; the database's unique index settles a race between two. */
async function associationUnique(
  fip: { id: string; floating_ip_address: string; floating_network_id: string },
  association: { fixed_port_id: string | null; fixed_ip_address: string | null } | undefined,
  write: () => Promise<unknown>,
): Promise<void> {
  try {
    await write();
  } catch (err) {
    if (association?.fixed_port_id && isUniqueViolation(err)) {
      throw floatingIpPortAlreadyAssociated(fip.floating_ip_address, fip.id, association.fixed_port_id, association.fixed_ip_address ?? '', fip.floating_network_id);
    }
    throw err;
  }
}

/** Associates (port given), moves, or disassociates (null) a floating IP; bumps its revision. */
export async function updateFloatingIp(
  tx: NetTx, fip: FloatingIpTable, changes: { port_id?: string | null; fixed_ip_address?: string; description?: string }, caller: Caller,
): Promise<void> {
  const set: Partial<FloatingIpTable> = {};
  if (changes.description !== undefined) set.description = changes.description;
  if (changes.port_id === null) {
    Object.assign(set, { fixed_port_id: null, fixed_ip_address: null, router_id: null, status: 'DOWN' });
  } else if (changes.port_id !== undefined) {
    const a = await resolveAssociation(tx, fip, changes.port_id, changes.fixed_ip_address, caller);
    Object.assign(set, { ...a, status: 'ACTIVE' });
  } else if (changes.fixed_ip_address !== undefined) {
    if (!fip.fixed_port_id) throw badFloatingIpRequest('fixed_ip_address cannot be specified without a port_id');
    const a = await resolveAssociation(tx, fip, fip.fixed_port_id, changes.fixed_ip_address, caller);
    Object.assign(set, { ...a, status: 'ACTIVE' });
  }
  await associationUnique(fip, set.fixed_port_id ? { fixed_port_id: set.fixed_port_id, fixed_ip_address: set.fixed_ip_address ?? null } : undefined, () =>
    tx.updateTable('floatingip')
      .set({ ...set, updated_at: now(), revision_number: Number(fip.revision_number) + 1 })
      .where('id', '=', fip.id).execute());
}

export async function deleteFloatingIp(tx: NetTx, deps: NetworkDeps, fip: FloatingIpTable): Promise<void> {
  await tx.deleteFrom('floatingip').where('id', '=', fip.id).execute();
  await deleteTags(tx, 'floatingip', fip.id);
  const port = await tx.selectFrom('port').select('id').where('id', '=', fip.floating_port_id).executeTakeFirst();
  if (port) await deletePort(tx, deps, port.id);
}

export { disassociateFloatingIpsOfPort } from './port-cleanup.ts';
