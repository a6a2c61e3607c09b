// Changing a port: the rules of Neutron's update_port in one place (the API handler validates
// shapes and policy, this decides what the change means for addresses, MAC, binding and port
// security). Runs in the caller's transaction; returns the port before and after.
import { isUniqueViolation } from '../../core/db/index.ts';
import type { NetTx } from '../db/database.ts';
import { notFoundError, now, type NetworkDeps } from '../api/common.ts';
import { allocateAddresses, type AddressRequest } from '../ipam/allocate.ts';
import {
  addressPairNeedsPortSecurity, bindingColumns, checkSecurityGroups, completeDhcpOpts, completePairs, inSavepoint, isBound,
  macAddressInUse, portBound, portHasSecurityGroup, portSecurityRequiredForGroups,
  type AddressPair, type DhcpOption, type PortOptions,
} from './create-port.ts';
import { normalizeMac } from './mac.ts';
import { loadPortView, type PortView } from './port-view.ts';

export interface PortChanges {
  name?: string;
  description?: string;
  admin_state_up?: boolean;
  device_id?: string;
  device_owner?: string;
  fixed_ips?: AddressRequest[];
  mac_address?: string;
  security_groups?: string[] | null;
  port_security_enabled?: boolean;
  allowed_address_pairs?: AddressPair[] | null;
  extra_dhcp_opts?: DhcpOption[] | null;
  dns_name?: string;
  'binding:host_id'?: string;
  'binding:profile'?: Record<string, unknown> | null;
  'binding:vnic_type'?: string;
}

/**
 * Neutron's reading of a fixed_ips update: entries with an address the port already holds keep
 * it, entries with a new address or only a subnet are allocated, held addresses not named
 * are released.
 */
async function reallocate(tx: NetTx, port: PortView, requested: AddressRequest[]): Promise<void> {
  const wanted = new Set(requested.filter((r) => r.ip_address !== undefined).map((r) => r.ip_address!));
  const release = port.fixed_ips.filter((ip) => !wanted.has(ip.ip_address));
  const held = new Set(port.fixed_ips.map((ip) => ip.ip_address));
  const add = requested.filter((r) => r.ip_address === undefined || !held.has(r.ip_address));
  for (const ip of release) {
    await tx.deleteFrom('ip_allocation').where('port_id', '=', port.id)
      .where('subnet_id', '=', ip.subnet_id).where('ip_address', '=', ip.ip_address).execute();
  }
  if (add.length) await allocateAddresses(tx, { id: port.network_id }, port.id, port.mac_address, add);
}

export async function updatePort(
  tx: NetTx, deps: NetworkDeps, portId: string, changes: PortChanges, opts: PortOptions = {},
): Promise<{ before: PortView; after: PortView }> {
  void deps;
  const before = await loadPortView(tx, portId);
  if (!before) throw notFoundError('Port', portId);
  const set: Record<string, unknown> = {};

  // port security, security groups and address pairs decide together
  const portSecurity = changes.port_security_enabled ?? before.port_security_enabled;
  let groups: string[] | undefined;
  if (changes.security_groups !== undefined) {
    groups = await checkSecurityGroups(tx, changes.security_groups ?? [], before.project_id, opts);
    if (groups.length && !portSecurity) {
      throw changes.port_security_enabled === false ? portHasSecurityGroup() : portSecurityRequiredForGroups();
    }
  } else if (!portSecurity && before.security_groups.length) {
    throw portHasSecurityGroup();
  }
  const pairs = changes.allowed_address_pairs === undefined ? before.allowed_address_pairs : (changes.allowed_address_pairs ?? []);
  if (pairs.length && !portSecurity) throw addressPairNeedsPortSecurity();
  if (changes.port_security_enabled !== undefined) set.port_security_enabled = portSecurity ? 1 : 0;

  let mac = before.mac_address;
  if (changes.mac_address !== undefined && normalizeMac(changes.mac_address) !== before.mac_address) {
    mac = normalizeMac(changes.mac_address);
    if (isBound(before['binding:vif_type'])) throw portBound(portId, before['binding:vif_type'], before.mac_address, mac);
    const taken = await tx.selectFrom('port').select('id').where('network_id', '=', before.network_id).where('mac_address', '=', mac).executeTakeFirst();
    if (taken) throw macAddressInUse(before.network_id, mac);
    set.mac_address = mac;
  }
  if (changes.allowed_address_pairs !== undefined) set.allowed_address_pairs = JSON.stringify(completePairs(pairs, mac));
  else if (set.mac_address) {
    // pairs that took the port's MAC follow it
    set.allowed_address_pairs = JSON.stringify(pairs.map((p) => (p.mac_address === before.mac_address ? { ...p, mac_address: mac } : p)));
  }

  for (const key of ['name', 'description', 'device_id', 'device_owner', 'dns_name'] as const) {
    if (changes[key] !== undefined) set[key] = changes[key];
  }
  if (changes.admin_state_up !== undefined) set.admin_state_up = changes.admin_state_up ? 1 : 0;
  if (changes.extra_dhcp_opts !== undefined) set.extra_dhcp_opts = JSON.stringify(completeDhcpOpts(changes.extra_dhcp_opts ?? []));
  if (changes['binding:profile'] !== undefined) set.binding_profile = JSON.stringify(changes['binding:profile'] ?? {});

  const host = changes['binding:host_id'] ?? before['binding:host_id'];
  const vnicType = changes['binding:vnic_type'] ?? before['binding:vnic_type'];
  if (host !== before['binding:host_id'] || vnicType !== before['binding:vnic_type']) {
    Object.assign(set, bindingColumns(host, vnicType), { binding_vnic_type: vnicType });
    // a port moving host is down until the new host's agent says otherwise
    if (host !== before['binding:host_id']) set.status = 'DOWN';
  }

  set.updated_at = now();
  set.revision_number = before.revision_number + 1;
  try {
    await inSavepoint(tx, 'port_update', () => tx.updateTable('port').set(set).where('id', '=', portId).execute());
  } catch (err) {
    if (isUniqueViolation(err) && set.mac_address) throw macAddressInUse(before.network_id, mac);
    throw err;
  }

  if (changes.fixed_ips !== undefined) await reallocate(tx, { ...before, mac_address: mac }, changes.fixed_ips);
  if (groups !== undefined) {
    await tx.deleteFrom('port_security_group').where('port_id', '=', portId).execute();
    if (groups.length) await tx.insertInto('port_security_group').values(groups.map((g) => ({ port_id: portId, security_group_id: g }))).execute();
  }
  const after = await loadPortView(tx, portId);
  return { before, after: after! };
}
