// IP address management for ports: the one place addresses are handed out and freed.
//
// Race-freedom comes from the database: an address is a row of ip_allocation whose primary key
// is (subnet_id, ip_address). A caller picks the lowest free address of the pools from the
// addresses taken (read once, in its transaction) and inserts it; when another transaction got
// there first the insert hits the key, and the caller tries the next address. Each attempt runs
// inside a SAVEPOINT, because on PostgreSQL a failed statement otherwise aborts the whole
// transaction. On PostgreSQL and MySQL the subnet rows are also locked (in id order) for the
// rest of the transaction, so parallel allocations on one subnet queue instead of colliding
// over and over — and, on MySQL, instead of deadlocking on InnoDB's duplicate-key gap locks.
// SQLite serializes write transactions anyway.
import { MysqlAdapter, SqliteAdapter, sql } from 'kysely';
import { typedError } from '../../core/http/index.ts';
import { isUniqueViolation } from '../../core/db/index.ts';
import type { NetTx } from '../db/database.ts';
import type { SubnetTable } from '../db/schema.ts';
import { contains, firstOf, formatIp, lastOf, parseCidr, parseIp, type Cidr } from './cidr.ts';
import { storedPools } from './pools.ts';
import { eui64Address, isAutoAddressSubnet } from './slaac.ts';

export interface AddressRequest { subnet_id?: string; ip_address?: string }

/** Owners whose ports are router interfaces: they take addresses even on SLAAC subnets. */
export const ROUTER_INTERFACE_OWNERS = ['network:router_interface', 'network:ha_router_replicated_interface', 'network:router_interface_distributed'];
const ROUTER_PORT_OWNERS = [...ROUTER_INTERFACE_OWNERS, 'network:router_gateway'];

type Step =
  | { kind: 'fixed'; subnet: SubnetTable; value: bigint }
  | { kind: 'eui64'; subnet: SubnetTable }
  | { kind: 'any'; subnets: SubnetTable[] };

const generationFailure = (networkId: string) =>
  typedError(409, 'IpAddressGenerationFailure', `No more IP addresses available on network ${networkId}.`);
const alreadyAllocated = (ip: string, subnetId: string) =>
  typedError(409, 'IpAddressAlreadyAllocated', `IP address ${ip} already allocated in subnet ${subnetId}`);
const invalidInput = (message: string) => typedError(400, 'InvalidInput', `Invalid input for operation: ${message}`);

export function dialectOf(tx: NetTx): 'sqlite' | 'mysql' | 'postgresql' {
  const adapter = tx.getExecutor().adapter;
  if (adapter instanceof SqliteAdapter) return 'sqlite';
  if (adapter instanceof MysqlAdapter) return 'mysql';
  return 'postgresql';
}

/** Neutron's check_subnet_ip: inside the CIDR and, on IPv4, neither network nor broadcast address. */
export function validIpForSubnet(cidr: Cidr, ip: { version: number; value: bigint }, deviceOwner = ''): boolean {
  if (ip.version !== cidr.version || !contains(cidr, ip as { version: 4 | 6; value: bigint })) return false;
  if (cidr.version === 6) return ROUTER_PORT_OWNERS.includes(deviceOwner) || deviceOwner === '' || ip.value !== firstOf(cidr);
  return ip.value !== firstOf(cidr) && ip.value !== lastOf(cidr);
}

/**
 * Allocates addresses for a port inside the caller's transaction: one per request (or, with no
 * requests, one from the first IPv4 subnet with free addresses, one from the first IPv6
 * stateful subnet with free addresses, plus the EUI-64 address on every IPv6 SLAAC subnet);
 * inserts ip_allocation rows for portId (the port row must exist: it is read for device_owner).
 * Errors as Neutron: 409 IpAddressGenerationFailure (subnet(s) full), 409
 * IpAddressAlreadyAllocated (requested address taken), 400 InvalidIpForSubnet /
 * InvalidIpForNetwork (address outside), 404 SubnetNotFound (no such subnet), 400 InvalidInput
 * (subnet of another network, address on a SLAAC subnet, ...).
 */
export async function allocateAddresses(
  tx: NetTx,
  network: { id: string },
  portId: string,
  mac: string,
  requests: AddressRequest[] | undefined,
): Promise<{ subnet_id: string; ip_address: string }[]> {
  const subnets = await tx.selectFrom('subnet').selectAll().where('network_id', '=', network.id).orderBy('created_at').orderBy('id').execute();
  const port = await tx.selectFrom('port').select('device_owner').where('id', '=', portId).executeTakeFirst();
  const owner = port?.device_owner ?? '';
  const isRouterInterface = ROUTER_INTERFACE_OWNERS.includes(owner);
  const cidrs = new Map(subnets.map((s) => [s.id, parseCidr(s.cidr)!]));
  const steps: Step[] = [];

  if (requests === undefined) {
    const v4 = subnets.filter((s) => s.ip_version === 4);
    const v6Stateful = subnets.filter((s) => s.ip_version === 6 && !isAutoAddressSubnet(s));
    if (v4.length) steps.push({ kind: 'any', subnets: v4 });
    if (v6Stateful.length) steps.push({ kind: 'any', subnets: v6Stateful });
    if (!isRouterInterface) for (const s of subnets) if (isAutoAddressSubnet(s)) steps.push({ kind: 'eui64', subnet: s });
  } else {
    if (requests.length && subnets.length === 0) throw invalidInput('IP allocation requires subnets for network');
    for (const request of requests) {
      let ip: ReturnType<typeof parseIp> = null;
      if (request.ip_address !== undefined) {
        ip = parseIp(request.ip_address);
        if (!ip) throw typedError(400, 'HTTPBadRequest', `Invalid input for fixed_ips. Reason: '${String(request.ip_address)}' is not a valid IP address.`);
      }
      let subnet: SubnetTable | undefined;
      if (request.subnet_id !== undefined) {
        subnet = subnets.find((s) => s.id === request.subnet_id);
        if (!subnet) {
          const elsewhere = await tx.selectFrom('subnet').select('network_id').where('id', '=', String(request.subnet_id)).executeTakeFirst();
          if (!elsewhere) throw typedError(404, 'SubnetNotFound', `Subnet ${request.subnet_id} could not be found.`);
          throw invalidInput(`Failed to create port on network ${network.id}, because fixed_ips included invalid subnet ${request.subnet_id}`);
        }
        if (ip && !validIpForSubnet(cidrs.get(subnet.id)!, ip, owner)) {
          throw typedError(400, 'InvalidIpForSubnet', `IP address ${request.ip_address} is not a valid IP for the specified subnet.`);
        }
      } else if (ip) {
        subnet = subnets.find((s) => validIpForSubnet(cidrs.get(s.id)!, ip!, owner));
        if (!subnet) throw typedError(400, 'InvalidIpForNetwork', `IP address ${request.ip_address} is not a valid IP for any of the subnets on the specified network.`);
      } else {
        throw invalidInput('IP allocation requires subnet_id or ip_address');
      }
      if (isAutoAddressSubnet(subnet) && !isRouterInterface) {
        if (ip) {
          throw invalidInput(`IPv6 address ${request.ip_address} cannot be directly assigned to a port on subnet ${subnet.id} as the subnet is configured for automatic addresses`);
        }
        steps.push({ kind: 'eui64', subnet });
      } else if (ip) {
        steps.push({ kind: 'fixed', subnet, value: ip.value });
      } else {
        steps.push({ kind: 'any', subnets: [subnet] });
      }
    }
    // Neutron implicitly adds every auto-address subnet to non-router ports
    if (!isRouterInterface) {
      for (const s of subnets) {
        if (isAutoAddressSubnet(s) && !steps.some((st) => st.kind === 'eui64' && st.subnet.id === s.id)) steps.push({ kind: 'eui64', subnet: s });
      }
    }
  }
  if (steps.length === 0) return [];

  const dialect = dialectOf(tx);
  const involved = [...new Set(steps.flatMap((st) => (st.kind === 'any' ? st.subnets.map((s) => s.id) : [st.subnet.id])))].sort();
  if (dialect !== 'sqlite') {
    const lock = tx.selectFrom('subnet').select('id').where('id', 'in', involved).orderBy('id');
    await (dialect === 'postgresql' ? lock.forNoKeyUpdate() : lock.forUpdate()).execute();
  }

  const taken = new Map<string, Set<bigint>>();
  const takenOf = async (subnet: SubnetTable): Promise<Set<bigint>> => {
    let set = taken.get(subnet.id);
    if (!set) {
      let q = tx.selectFrom('ip_allocation').select('ip_address').where('subnet_id', '=', subnet.id);
      // MySQL's repeatable read would show the snapshot from before the lock; a locking read sees the latest
      if (dialect === 'mysql') q = q.forUpdate();
      set = new Set((await q.execute()).map((r) => parseIp(r.ip_address)!.value));
      taken.set(subnet.id, set);
    }
    return set;
  };

  /** Inserts one address under a savepoint; false when the address is already allocated. */
  const tryInsert = async (subnet: SubnetTable, text: string): Promise<boolean> => {
    await sql`savepoint ipam_allocation`.execute(tx);
    try {
      await tx.insertInto('ip_allocation').values({ subnet_id: subnet.id, ip_address: text, port_id: portId, network_id: network.id }).execute();
    } catch (err) {
      await sql`rollback to savepoint ipam_allocation`.execute(tx);
      await sql`release savepoint ipam_allocation`.execute(tx);
      if (isUniqueViolation(err)) return false;
      throw err;
    }
    await sql`release savepoint ipam_allocation`.execute(tx);
    return true;
  };

  const out: { subnet_id: string; ip_address: string }[] = [];
  for (const step of steps) {
    if (step.kind === 'fixed' || step.kind === 'eui64') {
      const version = step.subnet.ip_version as 4 | 6;
      const value = step.kind === 'fixed' ? step.value : eui64Address(cidrs.get(step.subnet.id)!, mac);
      const text = formatIp(version, value);
      const set = await takenOf(step.subnet);
      if (set.has(value) || !(await tryInsert(step.subnet, text))) throw alreadyAllocated(text, step.subnet.id);
      set.add(value);
      out.push({ subnet_id: step.subnet.id, ip_address: text });
      continue;
    }
    let done = false;
    for (const subnet of step.subnets) {
      const set = await takenOf(subnet);
      const version = subnet.ip_version as 4 | 6;
      for (const pool of storedPools(subnet.allocation_pools).sort((a, b) => (a.start < b.start ? -1 : 1))) {
        for (let candidate = pool.start; candidate <= pool.end && !done; candidate++) {
          if (set.has(candidate)) continue;
          const text = formatIp(version, candidate);
          set.add(candidate); // taken either by us or by whoever beat us to it
          if (await tryInsert(subnet, text)) {
            out.push({ subnet_id: subnet.id, ip_address: text });
            done = true;
          }
        }
        if (done) break;
      }
      if (done) break;
    }
    if (!done) throw generationFailure(network.id);
  }
  return out;
}

/** Frees every address of a port (its ip_allocation rows), in the caller's transaction. */
export async function releaseAddresses(tx: NetTx, portId: string): Promise<void> {
  await tx.deleteFrom('ip_allocation').where('port_id', '=', portId).execute();
}
