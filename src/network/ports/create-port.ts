// Creating and deleting ports: the business rules every creator shares, whether the ports API,
// a router (network:router_interface / network:router_gateway) or a floating IP
// (network:floatingip). Addresses come from IPAM, inside the caller's transaction, so a port
// and its addresses are created or rolled back together.
//
// Callers publish agent events after their transaction commits (see agent/events.ts):
// createPort/deletePort cannot, because an agent reacting before the commit would read old state.
import { sql } from 'kysely';
import { isUniqueViolation } from '../../core/db/index.ts';
import { typedError } from '../../core/http/index.ts';
import type { NetTx } from '../db/database.ts';
import { deleteTags } from '../db/tags.ts';
import { newId, notFoundError, now, type NetworkDeps } from '../api/common.ts';
import { allocateAddresses, releaseAddresses, type AddressRequest } from '../ipam/allocate.ts';
import { ensureDefaultSecurityGroup } from '../secgroups/default-group.ts';
import { disassociateFloatingIpsOfPort } from '../l3/port-cleanup.ts';
import { normalizeMac, randomMac } from './mac.ts';
import { loadPortView, PORT_TAG_TYPE, type PortView } from './port-view.ts';

export { PORT_TAG_TYPE };

export type { AddressRequest };


export interface AddressPair {
  ip_address: string;
  mac_address?: string;
}

export interface DhcpOption {
  opt_name: string;
  opt_value: string | null;
  ip_version?: number;
}

export interface PortAttrs {
  project_id: string;
  network_id: string;
  /** a given id (bulk creators); generated when omitted */
  id?: string;
  name?: string;
  description?: string;
  device_owner?: string;
  device_id?: string;
  /** omitted: one address from the network's subnets (IPAM decides); []: none */
  fixed_ips?: AddressRequest[];
  mac_address?: string;
  admin_state_up?: boolean;
  /** omitted: the project's default group (none for network:* ports); null or []: none */
  security_groups?: string[] | null;
  /** omitted: the network's setting */
  port_security_enabled?: boolean;
  allowed_address_pairs?: AddressPair[];
  extra_dhcp_opts?: DhcpOption[];
  dns_name?: string;
  'binding:host_id'?: string;
  'binding:profile'?: Record<string, unknown>;
  'binding:vnic_type'?: string;
  tags?: string[];
}

export interface PortOptions {
  /** admins may use any project's security groups */
  admin?: boolean;
}

// ---- Neutron's faults for ports ----

export const macAddressInUse = (networkId: string, mac: string) =>
  typedError(409, 'MacAddressInUse', `Unable to complete operation for network ${networkId}. The mac address ${mac} is in use.`);
export const macGenerationFailure = (networkId: string) =>
  typedError(503, 'MacAddressGenerationFailure', `Unable to generate unique mac on network ${networkId}.`);
export const securityGroupNotFound = (id: string) =>
  typedError(404, 'SecurityGroupNotFound', `Security group ${id} does not exist`);
export const portSecurityRequiredForGroups = () =>
  typedError(400, 'PortSecurityAndIPRequiredForSecurityGroups',
    'Port security must be enabled and port must have an IP address in order to use security groups.');
export const portHasSecurityGroup = () =>
  typedError(409, 'PortSecurityPortHasSecurityGroup',
    'Port has security group associated. Cannot disable port security or ip address until security group is removed');
export const addressPairNeedsPortSecurity = () =>
  typedError(409, 'AddressPairAndPortSecurityRequired', 'Port Security must be enabled in order to have allowed address pairs on a port.');
export const portBound = (portId: string, vifType: string, oldMac: string, newMac: string) =>
  typedError(409, 'PortBound',
    `Unable to complete operation on port ${portId}, port is already bound, port type: ${vifType}, old_mac ${oldMac}, new_mac ${newMac}.`);

/** Ports of the network service itself (routers, DHCP, floating IPs): Neutron trusts them. */
export const isTrustedOwner = (deviceOwner: string | undefined) => !!deviceOwner && deviceOwner.startsWith('network:');

// ---- binding ----

/** What the API binds a port to on a host: a Linux bridge port with filtering (ML2 linuxbridge). */
export function bindingColumns(host: string, vnicType: string) {
  if (!host) return { binding_host_id: '', binding_vif_type: 'unbound', binding_vif_details: '{}' };
  if (vnicType !== 'normal') return { binding_host_id: host, binding_vif_type: 'binding_failed', binding_vif_details: '{}' };
  return { binding_host_id: host, binding_vif_type: 'bridge', binding_vif_details: JSON.stringify({ connectivity: 'l2', port_filter: true }) };
}

export const isBound = (vifType: string) => vifType !== 'unbound' && vifType !== 'binding_failed';

// ---- helpers shared with updatePort ----

/** Runs `fn` in a savepoint so a failed statement leaves the transaction usable (PostgreSQL aborts it otherwise). */
export async function inSavepoint<T>(tx: NetTx, name: string, fn: () => Promise<T>): Promise<T> {
  await sql`savepoint ${sql.raw(name)}`.execute(tx);
  try {
    const result = await fn();
    await sql`release savepoint ${sql.raw(name)}`.execute(tx);
    return result;
  } catch (err) {
    await sql`rollback to savepoint ${sql.raw(name)}`.execute(tx);
    throw err;
  }
}

/** The security groups a port gets: each must exist and be the port's project's (or any, for admins). */
export async function checkSecurityGroups(tx: NetTx, ids: string[], projectId: string, opts: PortOptions): Promise<string[]> {
  const unique = [...new Set(ids)];
  if (unique.length === 0) return [];
  const rows = await tx.selectFrom('security_group').select(['id', 'project_id']).where('id', 'in', unique).execute();
  for (const id of unique) {
    const row = rows.find((r) => r.id === id);
    if (!row || (!opts.admin && row.project_id !== projectId)) throw securityGroupNotFound(id);
  }
  return unique;
}

/** Pairs as stored: each with its MAC (the port's when not given), normalised. */
export function completePairs(pairs: AddressPair[] | undefined, mac: string): { ip_address: string; mac_address: string }[] {
  return (pairs ?? []).map((p) => ({ ip_address: p.ip_address, mac_address: p.mac_address ? normalizeMac(p.mac_address) : mac }));
}

export function completeDhcpOpts(opts: DhcpOption[] | undefined) {
  return (opts ?? []).map((o) => ({ opt_name: o.opt_name, opt_value: o.opt_value, ip_version: Number(o.ip_version ?? 4) }));
}

const MAC_ATTEMPTS = 16;

/**
 * Creates a port (and its addresses) in the caller's transaction; returns its id.
 * Faults: NetworkNotFound, MacAddressInUse, SecurityGroupNotFound, the IPAM faults
 * (IpAddressInUse, IpAddressGenerationFailure, InvalidInput) and the port security ones.
 */
export async function createPort(tx: NetTx, deps: NetworkDeps, attrs: PortAttrs, opts: PortOptions = {}): Promise<string> {
  const network = await tx.selectFrom('network').select(['id', 'project_id', 'port_security_enabled'])
    .where('id', '=', attrs.network_id).executeTakeFirst();
  if (!network) throw notFoundError('Network', attrs.network_id);
  const portSecurity = attrs.port_security_enabled ?? Boolean(Number(network.port_security_enabled));

  let groups: string[];
  if (attrs.security_groups === undefined) {
    groups = portSecurity && !isTrustedOwner(attrs.device_owner) && attrs.project_id
      ? [await ensureDefaultSecurityGroup(tx, attrs.project_id)]
      : [];
  } else {
    groups = await checkSecurityGroups(tx, attrs.security_groups ?? [], attrs.project_id, opts);
    if (groups.length && !portSecurity) throw portSecurityRequiredForGroups();
  }
  if (attrs.allowed_address_pairs?.length && !portSecurity) throw addressPairNeedsPortSecurity();

  const id = attrs.id ?? newId();
  const stamp = now();
  const vnicType = attrs['binding:vnic_type'] ?? 'normal';
  const given = attrs.mac_address === undefined ? undefined : normalizeMac(attrs.mac_address);
  if (given) {
    const taken = await tx.selectFrom('port').select('id').where('network_id', '=', network.id).where('mac_address', '=', given).executeTakeFirst();
    if (taken) throw macAddressInUse(network.id, given);
  }
  let mac = '';
  for (let attempt = 1; ; attempt++) {
    mac = given ?? randomMac(deps.settings.baseMac);
    try {
      await inSavepoint(tx, 'port_mac', () => tx.insertInto('port').values({
        id,
        project_id: attrs.project_id,
        network_id: network.id,
        name: attrs.name ?? '',
        description: attrs.description ?? '',
        admin_state_up: attrs.admin_state_up === false ? 0 : 1,
        status: 'DOWN',
        mac_address: mac,
        device_id: attrs.device_id ?? '',
        device_owner: attrs.device_owner ?? '',
        ...bindingColumns(attrs['binding:host_id'] ?? '', vnicType),
        binding_vnic_type: vnicType,
        binding_profile: JSON.stringify(attrs['binding:profile'] ?? {}),
        port_security_enabled: portSecurity ? 1 : 0,
        allowed_address_pairs: JSON.stringify(completePairs(attrs.allowed_address_pairs, mac)),
        extra_dhcp_opts: JSON.stringify(completeDhcpOpts(attrs.extra_dhcp_opts)),
        dns_name: attrs.dns_name ?? '',
        created_at: stamp,
        updated_at: stamp,
        revision_number: 1,
      }).execute());
      break;
    } catch (err) {
      if (!isUniqueViolation(err)) throw err;
      if (given) throw macAddressInUse(network.id, given);
      if (attempt >= MAC_ATTEMPTS) throw macGenerationFailure(network.id);
    }
  }
  await allocateAddresses(tx, { id: network.id }, id, mac, attrs.fixed_ips);
  if (groups.length) {
    await tx.insertInto('port_security_group').values(groups.map((g) => ({ port_id: id, security_group_id: g }))).execute();
  }
  const tags = [...new Set(attrs.tags ?? [])];
  if (tags.length) {
    await tx.insertInto('tag').values(tags.map((tag) => ({ resource_type: PORT_TAG_TYPE, resource_id: id, tag }))).execute();
  }
  return id;
}

/**
 * Deletes a port, its addresses, group memberships and tags, and lets go of floating IPs
 * associated with it, in the caller's transaction. No device-owner check: the ports API refuses
 * router and floating IP ports itself. Returns the port as it was (undefined when it did not
 * exist), so the caller can publish port_unbound after the commit when it was bound.
 */
export async function deletePort(tx: NetTx, deps: NetworkDeps, portId: string): Promise<PortView | undefined> {
  void deps;
  const view = await loadPortView(tx, portId);
  if (!view) return undefined;
  await disassociateFloatingIpsOfPort(tx, portId);
  await releaseAddresses(tx, portId);
  await tx.deleteFrom('port_security_group').where('port_id', '=', portId).execute();
  await tx.deleteFrom('router_port').where('port_id', '=', portId).execute();
  await deleteTags(tx, PORT_TAG_TYPE, portId);
  await tx.deleteFrom('port').where('id', '=', portId).execute();
  return view;
}

/** Database errors that mean "run the whole transaction again": deadlocks, serialization failures, busy SQLite. */
export function isRetryableConflict(err: unknown): boolean {
  const e = err as { code?: string; errno?: number } | undefined;
  if (!e) return false;
  return e.code === '40P01' || e.code === '40001' || e.errno === 1213 || e.errno === 1205
    || e.code === 'ER_LOCK_DEADLOCK' || e.code === 'SQLITE_BUSY';
}

/** deps.data.write, run again (a few times) when the database chose this transaction as a deadlock victim. */
export async function writeRetrying<T>(deps: NetworkDeps, change: (tx: NetTx) => Promise<T>, attempts = 8): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await deps.data.write(change);
    } catch (err) {
      if (attempt >= attempts || !isRetryableConflict(err)) throw err;
      await new Promise((r) => setTimeout(r, Math.random() * 20 * attempt));
    }
  }
}

export { loadPortViews, loadPortView } from './port-view.ts';
