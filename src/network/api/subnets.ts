// Subnets: POST/GET/PUT/DELETE /v2.0/subnets[/{id}] (and bulk POST {"subnets": [...]}).
//
// Validation follows Neutron's db_base_plugin and neutron-lib validators, with their messages
// and fault types: the CIDR (no host bits on IPv4; IPv6 text is normalised), overlap with the
// other subnets of the same network (400 InvalidInput), the gateway (default: the first
// address; null: none; explicit: must be a usable address inside the CIDR — Tenrec rejects a
// gateway outside the subnet with 400 InvalidInput "Gateway is not valid on subnet", where
// upstream Neutron accepts it), allocation pools (default: CIDR minus network/broadcast minus
// gateway; explicit: inside, non-overlapping, not holding the gateway → 409
// GatewayConflictWithAllocationPools), dns_nameservers (≤ 5, no duplicates), host_routes
// (≤ 20), the IPv6 RA/address modes, and CIDRs from subnet pools (subnetpool_id, prefixlen,
// use_default_subnetpool).
//
// Who sees a subnet: admins; the subnet's project; the network's project; and everyone when
// the network is shared. The subnets of an external network that is not shared stay hidden
// from other projects (they still allocate floating IPs from it), as tempest checks. Creating, updating and deleting need the network's owner or an
// admin (create_subnet: rule:admin_or_network_owner).
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { dbBool, fromDbBool } from '../../core/db/index.ts';
import { typedError } from '../../core/http/index.ts';
import type { RequestContext } from '../../core/auth/index.ts';
import type { NetDb, NetTx } from '../db/database.ts';
import type { NetworkTable, SubnetPoolTable, SubnetTable } from '../db/schema.ts';
import { deleteTags, tagsFor } from '../db/tags.ts';
import {
  authorize, contextOf, isAdmin, listResponse, newId, notFoundError, now, parseListQuery, resourceBody,
  selectFields, standardView, type NetworkDeps,
} from './common.ts';
import {
  bitsOf, cidrText, containsCidr, firstOf, formatIp, lastOf, overlaps, parseCidr, parseIp, sizeOf,
  type Cidr, type CidrLike, type IpVersion,
} from '../ipam/cidr.ts';
import { checkGatewayOutsidePools, defaultPools, parsePools, poolText, storedPools, type Range } from '../ipam/pools.ts';
import { isAutoAddressSubnet } from '../ipam/slaac.ts';
import { allocatePrefix, prefixAvailable } from '../ipam/prefixes.ts';
import { dialectOf, ROUTER_INTERFACE_OWNERS } from '../ipam/allocate.ts';
import { checkQuota } from '../quota/enforce.ts';

export const MAX_DNS_NAMESERVERS = 5;
export const MAX_HOST_ROUTES = 20;
const IPV6_MODES = ['dhcpv6-stateful', 'dhcpv6-stateless', 'slaac'];
/** ports whose allocations a subnet deletion removes instead of refusing (Neutron's AUTO_DELETE_PORT_OWNERS) */
const AUTO_DELETE_PORT_OWNERS = ['network:dhcp', 'network:distributed', 'network:floatingip_agent_gateway'];

const CREATE_KEYS = new Set([
  'name', 'description', 'network_id', 'ip_version', 'cidr', 'gateway_ip', 'allocation_pools', 'dns_nameservers',
  'host_routes', 'enable_dhcp', 'ipv6_ra_mode', 'ipv6_address_mode', 'subnetpool_id', 'prefixlen',
  'use_default_subnetpool', 'segment_id', 'project_id', 'tenant_id', 'tags', 'service_types',
]);
const UPDATE_KEYS = new Set(['name', 'description', 'gateway_ip', 'allocation_pools', 'dns_nameservers', 'host_routes', 'enable_dhcp', 'service_types']);
const READ_ONLY_ON_UPDATE = new Set([
  'id', 'network_id', 'ip_version', 'cidr', 'ipv6_ra_mode', 'ipv6_address_mode', 'subnetpool_id', 'prefixlen',
  'use_default_subnetpool', 'project_id', 'tenant_id', 'created_at', 'updated_at', 'revision_number', 'segment_id',
]);

// ---- errors, as Neutron words them ----

export const attributeError = (attr: string, reason: string) => typedError(400, 'HTTPBadRequest', `Invalid input for ${attr}. Reason: ${reason}`);
/** neutron_lib InvalidInput: "Invalid input for operation: <message>." */
export const invalidOperation = (message: string) => typedError(400, 'InvalidInput', `Invalid input for operation: ${message}.`);

export function rejectUnknownKeys(body: Record<string, unknown>, known: Set<string>, readOnly: Set<string>, method: 'POST' | 'PUT'): void {
  const unknown = Object.keys(body).filter((k) => !known.has(k));
  if (!unknown.length) return;
  const ro = unknown.find((k) => readOnly.has(k) || ['id', 'created_at', 'updated_at', 'revision_number'].includes(k));
  if (ro) throw typedError(400, 'HTTPBadRequest', method === 'PUT' ? `Cannot update read-only attribute ${ro}` : `Attribute '${ro}' not allowed in POST`);
  throw typedError(400, 'HTTPBadRequest', `Unrecognized attribute(s) '${unknown.join(', ')}'`);
}

export function toBool(attr: string, value: unknown): boolean {
  if (typeof value === 'boolean') return value;
  if (value === 0 || value === 1) return value === 1;
  if (typeof value === 'string') {
    const v = value.toLowerCase();
    if (['true', '1', 'yes', 'on'].includes(v)) return true;
    if (['false', '0', 'no', 'off'].includes(v)) return false;
  }
  throw attributeError(attr, `'${String(value)}' cannot be converted to boolean.`);
}

export function toText(attr: string, value: unknown, max = 255): string {
  if (typeof value !== 'string') throw attributeError(attr, `'${String(value)}' is not a valid string.`);
  if (value.length > max) throw attributeError(attr, `'${value}' exceeds maximum length of ${max}.`);
  return value;
}

export function toInt(attr: string, value: unknown): number {
  const n = typeof value === 'string' && /^-?\d+$/.test(value.trim()) ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isInteger(n)) throw attributeError(attr, `'${String(value)}' is not an integer.`);
  return n;
}

const versionMismatch = (name: string, addr: string, version: number) =>
  invalidOperation(`${name} '${addr}' does not match the ip_version '${version}'`);

/** neutron-lib validate_subnet: a CIDR, and on IPv4 exactly in its canonical form (no host bits). */
export function validateCidrText(attr: string, value: unknown): Cidr {
  if (typeof value !== 'string' || value.trim() !== value) throw attributeError(attr, `'${String(value)}' is not a valid IP subnet.`);
  const cidr = parseCidr(value.includes('/') ? value : `${value}/${value.includes(':') ? 128 : 32}`);
  if (!cidr) throw attributeError(attr, `'${value}' is not a valid IP subnet.`);
  if (!value.includes('/') || (cidr.version === 4 && cidrText(cidr) !== value)) {
    throw attributeError(attr, `'${value}' isn't a recognized IP subnet cidr, '${cidrText(cidr)}' is recommended.`);
  }
  return cidr;
}

function tagList(value: unknown): string[] {
  if (!Array.isArray(value) || value.some((t) => typeof t !== 'string' || !t || t.length > 255)) {
    throw attributeError('tags', `'${JSON.stringify(value)}' is not a valid list of tags.`);
  }
  return [...new Set(value as string[])].sort();
}

function nameservers(value: unknown, version: number, subnetId: string | undefined): string[] {
  if (value === null) return [];
  if (!Array.isArray(value)) throw attributeError('dns_nameservers', `Invalid data format for nameserver: '${JSON.stringify(value)}'`);
  const out: string[] = [];
  for (const host of value) {
    const ip = parseIp(host);
    if (!ip) throw attributeError('dns_nameservers', `'${String(host)}' is not a valid nameserver. '${String(host)}' is not a valid IP address.`);
    if (value.filter((h) => h === host).length > 1 || out.includes(formatIp(ip.version, ip.value))) {
      throw attributeError('dns_nameservers', `Duplicate nameserver '${String(host)}'`);
    }
    out.push(formatIp(ip.version, ip.value));
  }
  if (out.length > MAX_DNS_NAMESERVERS) {
    throw typedError(400, 'DNSNameServersExhausted', `Unable to complete operation for ${subnetId ?? 'new subnet'}. The number of DNS nameservers exceeds the limit ${MAX_DNS_NAMESERVERS}.`);
  }
  for (const host of value as string[]) if (parseIp(host)!.version !== version) throw versionMismatch('dns_nameserver', host, version);
  return out;
}

function hostRoutes(value: unknown, version: number, subnetId: string | undefined): { destination: string; nexthop: string }[] {
  if (value === null) return [];
  if (!Array.isArray(value)) throw attributeError('host_routes', `Invalid data format for hostroute: '${JSON.stringify(value)}'`);
  const out: { destination: string; nexthop: string }[] = [];
  for (const route of value) {
    const r = route as Record<string, unknown> | null;
    if (!r || typeof r !== 'object' || Array.isArray(r) || Object.keys(r).sort().join() !== 'destination,nexthop') {
      throw attributeError('host_routes', `Invalid data format for hostroute: '${JSON.stringify(route)}'`);
    }
    const dest = validateCidrText('host_routes', r.destination);
    const hop = parseIp(r.nexthop);
    if (!hop) throw attributeError('host_routes', `'${String(r.nexthop)}' is not a valid IP address.`);
    const entry = { destination: cidrText(dest), nexthop: formatIp(hop.version, hop.value) };
    if (out.some((o) => o.destination === entry.destination && o.nexthop === entry.nexthop)) {
      throw attributeError('host_routes', `Duplicate hostroute '${JSON.stringify(route)}'`);
    }
    out.push(entry);
  }
  if (out.length > MAX_HOST_ROUTES) {
    throw typedError(400, 'HostRoutesExhausted', `Unable to complete operation for ${subnetId ?? 'new subnet'}. The number of host routes exceeds the limit ${MAX_HOST_ROUTES}.`);
  }
  for (const route of out) {
    if (parseIp(route.nexthop)!.version !== version) throw versionMismatch('nexthop', route.nexthop, version);
    if (parseCidr(route.destination)!.version !== version) throw versionMismatch('destination', route.destination, version);
  }
  return out;
}

const MULTICAST: Record<number, string> = { 4: '224.0.0.0/4', 6: 'ff00::/8' };
const LOOPBACK: Record<number, string> = { 4: '127.0.0.0/8', 6: '::1/128' };
const LINK_LOCAL: Record<number, string> = { 4: '169.254.0.0/16', 6: 'fe80::/10' };

/** Neutron refuses DHCP on tiny, multicast, loopback and link-local subnets. */
function checkDhcpPossible(cidr: Cidr): void {
  if ((cidr.version === 4 && cidr.prefixlen > 30) || (cidr.version === 6 && cidr.prefixlen > 126)) {
    throw invalidOperation('Subnet has a prefix length that is incompatible with DHCP service enabled');
  }
  const inside = (c: string) => containsCidr(parseCidr(c)!, cidr);
  if (inside(MULTICAST[cidr.version]!)) throw invalidOperation('Multicast IP subnet is not supported if enable_dhcp is True');
  if (inside(LOOPBACK[cidr.version]!)) throw invalidOperation('Loopback IP subnet is not supported if enable_dhcp is True');
  if (inside(LINK_LOCAL[cidr.version]!)) throw invalidOperation('Link-local IP subnet is not supported if enable_dhcp is True');
}

/** The gateway as given (null: none), checked against the CIDR. */
function gatewayOf(value: unknown, cidr: Cidr): bigint | null {
  if (value === null) return null;
  const ip = parseIp(value);
  if (!ip) throw attributeError('gateway_ip', `'${String(value)}' is not a valid IP address.`);
  if (ip.version !== cidr.version) throw versionMismatch('gateway_ip', String(value), cidr.version);
  const inside = ip.value >= firstOf(cidr) && ip.value <= lastOf(cidr);
  const reserved = cidr.version === 4 && cidr.prefixlen < 31 && (ip.value === firstOf(cidr) || ip.value === lastOf(cidr));
  if (!inside || reserved) throw invalidOperation('Gateway is not valid on subnet');
  return ip.value;
}

/** The first address after the network address, when the subnet has one to spare. */
function defaultGateway(cidr: Cidr): bigint | null {
  const candidate = firstOf(cidr) + 1n;
  const last = lastOf(cidr) - (cidr.version === 4 ? 1n : 0n);
  return candidate <= last ? candidate : null;
}

// ---- views ----

export function subnetView(row: SubnetTable, tags: string[]): Record<string, unknown> {
  return {
    id: row.id,
    name: row.name,
    description: row.description,
    network_id: row.network_id,
    project_id: row.project_id,
    tenant_id: row.project_id,
    ip_version: Number(row.ip_version),
    cidr: row.cidr,
    gateway_ip: row.gateway_ip,
    allocation_pools: JSON.parse(row.allocation_pools),
    dns_nameservers: JSON.parse(row.dns_nameservers),
    host_routes: JSON.parse(row.host_routes),
    enable_dhcp: fromDbBool(row.enable_dhcp),
    ipv6_ra_mode: row.ipv6_ra_mode,
    ipv6_address_mode: row.ipv6_address_mode,
    subnetpool_id: row.subnetpool_id,
    segment_id: row.segment_id,
    service_types: [],
    ...standardView(row, tags),
  };
}

type NetworkFlags = Pick<NetworkTable, 'id' | 'project_id' | 'shared' | 'router_external'>;

function canSeeSubnet(ctx: RequestContext, subnet: SubnetTable, network: NetworkFlags | undefined): boolean {
  if (isAdmin(ctx) || subnet.project_id === ctx.projectId) return true;
  if (!network) return false;
  return network.project_id === ctx.projectId || fromDbBool(network.shared);
}

/** A subnet the caller may see (with its network), else 404 SubnetNotFound. */
export async function visibleSubnet(db: NetDb | NetTx, ctx: RequestContext, id: string): Promise<{ subnet: SubnetTable; network: NetworkTable }> {
  const subnet = await db.selectFrom('subnet').selectAll().where('id', '=', id).executeTakeFirst();
  const network = subnet && (await db.selectFrom('network').selectAll().where('id', '=', subnet.network_id).executeTakeFirst());
  if (!subnet || !network || !canSeeSubnet(ctx, subnet, network)) throw notFoundError('Subnet', id);
  return { subnet, network };
}

const canSeeNetwork = (ctx: RequestContext, row: NetworkTable) =>
  isAdmin(ctx) || row.project_id === ctx.projectId || fromDbBool(row.shared) || fromDbBool(row.router_external);

const canSeePool = (ctx: RequestContext, pool: SubnetPoolTable) => isAdmin(ctx) || pool.project_id === ctx.projectId || fromDbBool(pool.shared);

async function lockRow(tx: NetTx, table: 'subnet' | 'subnetpool', id: string): Promise<void> {
  const dialect = dialectOf(tx);
  if (dialect === 'sqlite') return;
  const q = tx.selectFrom(table).select('id').where('id', '=', id);
  await (dialect === 'postgresql' ? q.forNoKeyUpdate() : q.forUpdate()).execute();
}

// ---- create ----

/** What a pool-allocated CIDR counts against a project's default_quota: addresses (v4) or /64s (v6). */
export function quotaUnits(c: CidrLike): bigint {
  return c.version === 4 ? sizeOf(c) : sizeOf(c) >> 64n;
}

async function cidrFromPool(
  tx: NetTx, ctx: RequestContext, body: Record<string, unknown>, version: IpVersion, requested: Cidr | null, projectId: string,
): Promise<{ cidr: Cidr; poolId: string }> {
  let pool: SubnetPoolTable | undefined;
  if (body.subnetpool_id !== undefined && body.subnetpool_id !== null) {
    const id = String(body.subnetpool_id);
    pool = await tx.selectFrom('subnetpool').selectAll().where('id', '=', id).executeTakeFirst();
    if (!pool || !canSeePool(ctx, pool)) throw typedError(404, 'SubnetPoolNotFound', `Subnet pool ${id} could not be found.`);
  } else {
    pool = await tx.selectFrom('subnetpool').selectAll().where('is_default', '=', 1).where('ip_version', '=', version).executeTakeFirst();
    if (!pool) throw typedError(400, 'BadRequest', `Bad subnets request: No default subnetpool found for IPv${version}.`);
  }
  if (Number(pool.ip_version) !== version) {
    throw invalidOperation(`Cannot allocate IPv${version} subnet from IPv${pool.ip_version} subnet pool`);
  }
  // one allocation from a pool at a time: parallel requests would otherwise pick the same block
  await lockRow(tx, 'subnetpool', pool.id);
  const prefixes = (JSON.parse(pool.prefixes) as string[]).map((p) => parseCidr(p)!);
  const poolSubnets = await tx.selectFrom('subnet').select(['cidr', 'project_id']).where('subnetpool_id', '=', pool.id).execute();
  const used = poolSubnets.map((s) => parseCidr(s.cidr)!);
  let prefixlen: number;
  if (requested) prefixlen = requested.prefixlen;
  else if (body.prefixlen !== undefined && body.prefixlen !== null) prefixlen = toInt('prefixlen', body.prefixlen);
  else prefixlen = Number(pool.default_prefixlen);
  if (prefixlen < 0 || prefixlen > bitsOf(version)) throw attributeError('prefixlen', `'${prefixlen}' is not in range 0 through ${bitsOf(version)}.`);
  if (prefixlen > Number(pool.max_prefixlen)) {
    throw typedError(400, 'MaxPrefixSubnetAllocationError', `Unable to allocate subnet with prefix length ${prefixlen}, maximum allowed prefix is ${pool.max_prefixlen}.`);
  }
  if (prefixlen < Number(pool.min_prefixlen)) {
    throw typedError(400, 'MinPrefixSubnetAllocationError', `Unable to allocate subnet with prefix length ${prefixlen}, minimum allowed prefix is ${pool.min_prefixlen}.`);
  }
  let cidr: CidrLike | null;
  if (requested) {
    cidr = prefixAvailable(prefixes, used, requested) ? requested : null;
    if (!cidr) throw typedError(409, 'SubnetAllocationError', 'Failed to allocate subnet: Cannot allocate requested subnet from the available set of prefixes.');
  } else {
    cidr = allocatePrefix(version, prefixes, used, prefixlen);
    if (!cidr) throw typedError(409, 'SubnetAllocationError', `Failed to allocate subnet: Insufficient prefix space to allocate subnet size /${prefixlen}.`);
  }
  if (pool.default_quota !== null && pool.default_quota !== undefined) {
    const mine = poolSubnets.filter((s) => s.project_id === projectId).reduce((n, s) => n + quotaUnits(parseCidr(s.cidr)!), 0n);
    if (mine + quotaUnits(cidr) > BigInt(pool.default_quota)) {
      throw typedError(409, 'SubnetPoolQuotaExceeded', 'Per-tenant subnet pool prefix quota exceeded.');
    }
  }
  return { cidr: { ...cidr, hostBitsSet: false }, poolId: pool.id };
}

async function buildSubnet(tx: NetTx, deps: NetworkDeps, req: FastifyRequest, ctx: RequestContext, body: Record<string, unknown>): Promise<{ row: SubnetTable; tags: string[] }> {
  rejectUnknownKeys(body, CREATE_KEYS, new Set(), 'POST');
  if (body.network_id === undefined) throw typedError(400, 'HTTPBadRequest', "Failed to parse request. Required attribute 'network_id' not specified");
  if (body.ip_version === undefined) throw typedError(400, 'HTTPBadRequest', "Failed to parse request. Required attribute 'ip_version' not specified");
  const versionNumber = toInt('ip_version', body.ip_version);
  if (versionNumber !== 4 && versionNumber !== 6) throw attributeError('ip_version', `${versionNumber} is not in [4, 6].`);
  const version = versionNumber as IpVersion;
  const requestedProject = (body.project_id ?? body.tenant_id) as string | undefined;
  if (body.project_id !== undefined && body.tenant_id !== undefined && body.project_id !== body.tenant_id) {
    throw typedError(400, 'HTTPBadRequest', 'Both project_id and tenant_id were specified and do not match.');
  }
  const projectId = requestedProject ?? ctx.projectId ?? '';
  if (requestedProject !== undefined && requestedProject !== ctx.projectId && !isAdmin(ctx)) {
    throw typedError(400, 'HTTPBadRequest', "Specifying 'project_id' or 'tenant_id' other than the authenticated project in request requires admin privileges");
  }

  const network = await tx.selectFrom('network').selectAll().where('id', '=', String(body.network_id)).executeTakeFirst();
  if (!network || !canSeeNetwork(ctx, network)) throw notFoundError('Network', String(body.network_id));
  authorize(req, deps, 'create_subnet', { project_id: projectId, 'network:project_id': network.project_id, 'network:shared': fromDbBool(network.shared) });

  const name = body.name === undefined ? '' : toText('name', body.name);
  const description = body.description === undefined ? '' : toText('description', body.description);
  const enableDhcp = body.enable_dhcp === undefined ? true : toBool('enable_dhcp', body.enable_dhcp);
  for (const attr of ['ipv6_ra_mode', 'ipv6_address_mode'] as const) {
    const v = body[attr];
    if (v !== undefined && v !== null && !IPV6_MODES.includes(v as string)) {
      throw attributeError(attr, `'${String(v)}' is not in ['dhcpv6-stateful', 'dhcpv6-stateless', 'slaac'].`);
    }
  }
  const raMode = (body.ipv6_ra_mode ?? null) as string | null;
  const addressMode = (body.ipv6_address_mode ?? null) as string | null;

  // the CIDR: given, or from a subnet pool
  let cidr: Cidr | null = null;
  if (body.cidr !== undefined && body.cidr !== null) {
    cidr = validateCidrText('cidr', body.cidr);
    if (cidr.version !== version) throw versionMismatch('cidr', String(body.cidr), version);
    cidr = { ...cidr, hostBitsSet: false };
  }
  const usePool = (body.subnetpool_id !== undefined && body.subnetpool_id !== null)
    || (body.use_default_subnetpool !== undefined && toBool('use_default_subnetpool', body.use_default_subnetpool));
  let subnetpoolId: string | null = null;
  if (usePool) {
    const fromPool = await cidrFromPool(tx, ctx, body, version, cidr, projectId);
    cidr = fromPool.cidr;
    subnetpoolId = fromPool.poolId;
  } else if (!cidr) {
    throw typedError(400, 'BadRequest', 'Bad subnets request: a subnetpool must be specified in the absence of a cidr.');
  } else if (body.prefixlen !== undefined && body.prefixlen !== null) {
    throw typedError(400, 'BadRequest', 'Bad subnets request: Cannot specify both cidr and prefixlen without a subnetpool.');
  }

  if (version === 4) {
    if (raMode !== null) throw invalidOperation('ipv6_ra_mode is not valid when ip_version is 4');
    if (addressMode !== null) throw invalidOperation('ipv6_address_mode is not valid when ip_version is 4');
  } else {
    if ((raMode !== null || addressMode !== null) && !enableDhcp) {
      throw invalidOperation('ipv6_ra_mode or ipv6_address_mode cannot be set when enable_dhcp is set to False');
    }
    if (raMode !== null && addressMode !== null && raMode !== addressMode) {
      throw invalidOperation(`ipv6_ra_mode set to '${raMode}' with ipv6_address_mode set to '${addressMode}' is not valid. If both attributes are set, they must be the same value`);
    }
    if (isAutoAddressSubnet({ ip_version: 6, ipv6_ra_mode: raMode, ipv6_address_mode: addressMode }) && cidr.prefixlen !== 64) {
      throw invalidOperation(`Invalid CIDR ${cidrText(cidr)} for IPv6 address mode. OpenStack uses the EUI-64 address format, which requires the prefix to be /64`);
    }
  }
  if (enableDhcp) checkDhcpPossible(cidr);

  const gateway = body.gateway_ip === undefined ? defaultGateway(cidr) : gatewayOf(body.gateway_ip, cidr);
  const dns = body.dns_nameservers === undefined ? [] : nameservers(body.dns_nameservers, version, undefined);
  const routes = body.host_routes === undefined ? [] : hostRoutes(body.host_routes, version, undefined);
  let pools: Range[];
  if (body.allocation_pools === undefined || body.allocation_pools === null) {
    pools = defaultPools(cidr, gateway);
  } else {
    pools = parsePools(body.allocation_pools, cidr);
    checkGatewayOutsidePools(version, gateway, pools);
  }

  // within the network: no overlap, and one subnet pool per ip version
  const siblings = await tx.selectFrom('subnet').select(['cidr', 'ip_version', 'subnetpool_id']).where('network_id', '=', network.id).execute();
  for (const sibling of siblings) {
    if (overlaps(parseCidr(sibling.cidr)!, cidr)) {
      throw invalidOperation(`Requested subnet with cidr: ${cidrText(cidr)} for network: ${network.id} overlaps with another subnet`);
    }
  }
  if (siblings.some((s) => Number(s.ip_version) === version && (s.subnetpool_id ?? null) !== subnetpoolId)) {
    throw typedError(400, 'NetworkSubnetPoolAffinityError', 'Subnets hosted on the same network must be allocated from the same subnet pool.');
  }
  await checkQuota(tx, deps, projectId, 'subnet');

  const at = now();
  const row: SubnetTable = {
    id: newId(),
    project_id: projectId,
    network_id: network.id,
    segment_id: null,
    subnetpool_id: subnetpoolId,
    name,
    description,
    ip_version: version,
    cidr: cidrText(cidr),
    gateway_ip: gateway === null ? null : formatIp(version, gateway),
    enable_dhcp: dbBool(enableDhcp),
    ipv6_ra_mode: raMode,
    ipv6_address_mode: addressMode,
    allocation_pools: JSON.stringify(pools.map((p) => poolText(version, p))),
    dns_nameservers: JSON.stringify(dns),
    host_routes: JSON.stringify(routes),
    created_at: at,
    updated_at: at,
    revision_number: 0,
  };
  return { row, tags: body.tags === undefined ? [] : tagList(body.tags) };
}

// ---- update ----

async function updateSubnet(req: FastifyRequest, deps: NetworkDeps, ctx: RequestContext, id: string, body: Record<string, unknown>) {
  rejectUnknownKeys(body, UPDATE_KEYS, READ_ONLY_ON_UPDATE, 'PUT');
  return deps.data.write(async (tx) => {
    const { subnet, network } = await visibleSubnet(tx, ctx, id);
    authorize(req, deps, 'update_subnet', { project_id: subnet.project_id, 'network:project_id': network.project_id });
    await lockRow(tx, 'subnet', subnet.id);
    const cidr = parseCidr(subnet.cidr)!;
    const version = cidr.version;
    const changes: Partial<SubnetTable> = {};
    if (body.name !== undefined) changes.name = toText('name', body.name);
    if (body.description !== undefined) changes.description = toText('description', body.description);
    if (body.enable_dhcp !== undefined) {
      const enable = toBool('enable_dhcp', body.enable_dhcp);
      if (enable && !fromDbBool(subnet.enable_dhcp)) checkDhcpPossible(cidr);
      if (!enable && version === 6 && (subnet.ipv6_ra_mode || subnet.ipv6_address_mode)) {
        throw invalidOperation('Cannot disable enable_dhcp with ipv6 attributes set');
      }
      changes.enable_dhcp = dbBool(enable);
    }
    let gateway = subnet.gateway_ip === null ? null : parseIp(subnet.gateway_ip)!.value;
    if (body.gateway_ip !== undefined) {
      gateway = gatewayOf(body.gateway_ip, cidr);
      const newText = gateway === null ? null : formatIp(version, gateway);
      if (subnet.gateway_ip !== null && newText !== subnet.gateway_ip) {
        // the current gateway may not move while a router interface holds it
        const holder = await tx.selectFrom('ip_allocation').innerJoin('port', 'port.id', 'ip_allocation.port_id')
          .select('port.id as port_id').where('ip_allocation.subnet_id', '=', subnet.id)
          .where('ip_allocation.ip_address', '=', subnet.gateway_ip).where('port.device_owner', 'in', ROUTER_INTERFACE_OWNERS).executeTakeFirst();
        if (holder) {
          throw typedError(409, 'GatewayIpInUse', `Current gateway ip ${subnet.gateway_ip} already in use by port ${holder.port_id}. Unable to update.`);
        }
      }
      changes.gateway_ip = newText;
    }
    let pools = storedPools(subnet.allocation_pools);
    if (body.allocation_pools !== undefined) {
      pools = body.allocation_pools === null ? defaultPools(cidr, gateway) : parsePools(body.allocation_pools, cidr);
      changes.allocation_pools = JSON.stringify(pools.map((p) => poolText(version, p)));
    }
    if (body.gateway_ip !== undefined || body.allocation_pools !== undefined) checkGatewayOutsidePools(version, gateway, pools);
    if (body.dns_nameservers !== undefined) changes.dns_nameservers = JSON.stringify(nameservers(body.dns_nameservers, version, subnet.id));
    if (body.host_routes !== undefined) changes.host_routes = JSON.stringify(hostRoutes(body.host_routes, version, subnet.id));
    const updated: SubnetTable = { ...subnet, ...changes, updated_at: now(), revision_number: Number(subnet.revision_number) + 1 };
    await tx.updateTable('subnet').set({ ...changes, updated_at: updated.updated_at, revision_number: updated.revision_number }).where('id', '=', subnet.id).execute();
    const tags = (await tagsFor(tx, 'subnet', [subnet.id])).get(subnet.id) ?? [];
    return subnetView(updated, tags);
  });
}

// ---- delete ----

async function deleteSubnet(req: FastifyRequest, deps: NetworkDeps, ctx: RequestContext, id: string): Promise<void> {
  await deps.data.write(async (tx) => {
    const { subnet, network } = await visibleSubnet(tx, ctx, id);
    authorize(req, deps, 'delete_subnet', { project_id: subnet.project_id, 'network:project_id': network.project_id });
    await lockRow(tx, 'subnet', subnet.id);
    const allocations = await tx.selectFrom('ip_allocation').innerJoin('port', 'port.id', 'ip_allocation.port_id')
      .select(['ip_allocation.port_id', 'ip_allocation.ip_address', 'port.device_owner'])
      .where('ip_allocation.subnet_id', '=', subnet.id).execute();
    // DHCP ports lose their address here; on SLAAC subnets, so does every port but a router's
    const auto = isAutoAddressSubnet(subnet);
    const removable = (owner: string) => AUTO_DELETE_PORT_OWNERS.includes(owner) || (auto && !ROUTER_INTERFACE_OWNERS.includes(owner));
    if (allocations.some((a) => !removable(a.device_owner))) {
      throw typedError(409, 'SubnetInUse', `Unable to complete operation on subnet ${subnet.id}: One or more ports have an IP allocation from this subnet.`);
    }
    await tx.deleteFrom('ip_allocation').where('subnet_id', '=', subnet.id).execute();
    await deleteTags(tx, 'subnet', subnet.id);
    await tx.deleteFrom('subnet').where('id', '=', subnet.id).execute();
  });
}

// ---- routes ----

export function registerSubnets(app: FastifyInstance, deps: NetworkDeps): void {
  app.post('/v2.0/subnets', async (req, reply) => {
    const ctx = contextOf(req);
    const raw = req.body as Record<string, unknown> | undefined;
    const bulk = Array.isArray(raw?.subnets);
    const bodies = bulk ? (raw!.subnets as unknown[]).map((b) => resourceBody({ subnet: b }, 'subnet')) : [resourceBody(raw, 'subnet')];
    const views = await deps.data.write(async (tx) => {
      const out: Record<string, unknown>[] = [];
      for (const body of bodies) {
        const { row, tags } = await buildSubnet(tx, deps, req, ctx, body);
        await tx.insertInto('subnet').values(row).execute();
        if (tags.length) await tx.insertInto('tag').values(tags.map((tag) => ({ resource_type: 'subnet', resource_id: row.id, tag }))).execute();
        out.push(subnetView(row, tags));
      }
      return out;
    });
    reply.code(201);
    return bulk ? { subnets: views } : { subnet: views[0] };
  });

  app.get('/v2.0/subnets', async (req) => {
    const ctx = contextOf(req);
    const db = deps.data.db;
    const rows = await db.selectFrom('subnet').selectAll().execute();
    const networks = new Map((await db.selectFrom('network').select(['id', 'project_id', 'shared', 'router_external']).execute()).map((n) => [n.id, n]));
    const visible = rows.filter((r) => canSeeSubnet(ctx, r, networks.get(r.network_id)));
    const tags = await tagsFor(db, 'subnet', visible.length <= 500 ? visible.map((r) => r.id) : undefined);
    return listResponse(req, deps, 'subnets', visible.map((r) => subnetView(r, tags.get(r.id) ?? [])));
  });

  app.get<{ Params: { id: string } }>('/v2.0/subnets/:id', async (req) => {
    const ctx = contextOf(req);
    const { subnet } = await visibleSubnet(deps.data.db, ctx, req.params.id);
    const tags = (await tagsFor(deps.data.db, 'subnet', [subnet.id])).get(subnet.id) ?? [];
    return { subnet: selectFields(subnetView(subnet, tags), parseListQuery(req.query as Record<string, unknown>).fields) };
  });

  app.put<{ Params: { id: string } }>('/v2.0/subnets/:id', async (req) => {
    const ctx = contextOf(req);
    return { subnet: await updateSubnet(req, deps, ctx, req.params.id, resourceBody(req.body, 'subnet')) };
  });

  app.delete<{ Params: { id: string } }>('/v2.0/subnets/:id', async (req, reply) => {
    await deleteSubnet(req, deps, contextOf(req), req.params.id);
    reply.code(204);
    return null;
  });
}
