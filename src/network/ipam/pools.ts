// Allocation pools: the address ranges of a subnet that automatic allocation hands out.
// The default is the CIDR minus the network address (and the broadcast address on IPv4)
// minus the gateway, as Neutron's generate_pools; explicit pools are validated as Neutron's
// validate_allocation_pools, with its error types.
import { typedError } from '../../core/http/index.ts';
import { cidrText, firstOf, formatIp, lastOf, parseIp, type Cidr, type CidrLike } from './cidr.ts';

export interface Range {
  start: bigint;
  end: bigint;
}

export interface PoolText {
  start: string;
  end: string;
}

export const rangeText = (version: 4 | 6, r: Range): string => `${formatIp(version, r.start)}-${formatIp(version, r.end)}`;
export const poolText = (version: 4 | 6, r: Range): PoolText => ({ start: formatIp(version, r.start), end: formatIp(version, r.end) });

/** Neutron's default pools for a CIDR and gateway (null: no gateway). */
export function defaultPools(cidr: CidrLike, gateway: bigint | null): Range[] {
  const first = firstOf(cidr);
  const last = lastOf(cidr);
  if (first === last) return [{ start: first, end: last }]; // /32, /128
  const start = first + 1n;
  const end = last - (cidr.version === 4 ? 1n : 0n);
  if (start >= end) return []; // /31
  if (gateway === null || gateway < start || gateway > end) return [{ start, end }];
  const out: Range[] = [];
  if (gateway > start) out.push({ start, end: gateway - 1n });
  if (gateway < end) out.push({ start: gateway + 1n, end });
  return out;
}

/** Number of addresses in the pools. */
export const poolsSize = (pools: Range[]): bigint => pools.reduce((n, p) => n + (p.end - p.start + 1n), 0n);

/** The pools stored on a subnet row (JSON text) as ranges. */
export function storedPools(json: string): Range[] {
  const list = JSON.parse(json) as PoolText[];
  return list.map((p) => ({ start: parseIp(p.start)!.value, end: parseIp(p.end)!.value }));
}

const invalidPool = (pool: unknown) =>
  typedError(400, 'InvalidAllocationPool', `The allocation pool ${typeof pool === 'string' ? pool : JSON.stringify(pool)} is not valid.`);

/**
 * Parses and validates requested pools against the subnet's CIDR; throws Neutron's errors
 * (400 InvalidAllocationPool / OutOfBoundsAllocationPool, 409 OverlappingAllocationPools).
 * The gateway is checked separately (checkGatewayOutsidePools), as Neutron orders it.
 */
export function parsePools(input: unknown, cidr: Cidr): Range[] {
  if (!Array.isArray(input)) {
    throw typedError(400, 'HTTPBadRequest', `Invalid input for allocation_pools. Reason: Invalid data format for IP pool: '${JSON.stringify(input)}'.`);
  }
  const ranges: Range[] = [];
  for (const pool of input) {
    const p = pool as Record<string, unknown> | null;
    if (!p || typeof p !== 'object' || Array.isArray(p) || !('start' in p) || !('end' in p) || Object.keys(p).length !== 2) {
      throw typedError(400, 'HTTPBadRequest', `Invalid input for allocation_pools. Reason: Invalid data format for IP pool: '${JSON.stringify(pool)}'.`);
    }
    const start = parseIp(p.start);
    const end = parseIp(p.end);
    if (!start || !end) {
      throw typedError(400, 'HTTPBadRequest', `Invalid input for allocation_pools. Reason: '${!start ? String(p.start) : String(p.end)}' is not a valid IP address.`);
    }
    if (start.version !== end.version || start.value > end.value) throw invalidPool({ start: p.start, end: p.end });
    const range = { start: start.value, end: end.value };
    if (start.version !== cidr.version) throw invalidPool(rangeText(start.version, range));
    const low = firstOf(cidr) + 1n;
    const high = lastOf(cidr) - (cidr.version === 4 ? 1n : 0n);
    if (range.start < low || range.end > high) {
      throw typedError(400, 'OutOfBoundsAllocationPool', `The allocation pool ${rangeText(cidr.version, range)} spans beyond the subnet cidr ${cidrText(cidr)}.`);
    }
    ranges.push(range);
  }
  for (let i = 0; i < ranges.length; i++) {
    for (let j = i + 1; j < ranges.length; j++) {
      const a = ranges[i]!;
      const b = ranges[j]!;
      if (a.start <= b.end && b.start <= a.end) {
        throw typedError(409, 'OverlappingAllocationPools',
          `Found overlapping allocation pools: ${rangeText(cidr.version, a)} ${rangeText(cidr.version, b)} for subnet ${cidrText(cidr)}.`);
      }
    }
  }
  return ranges;
}

/** 409 GatewayConflictWithAllocationPools when the gateway lies inside a pool. */
export function checkGatewayOutsidePools(version: 4 | 6, gateway: bigint | null, pools: Range[]): void {
  if (gateway === null) return;
  for (const pool of pools) {
    if (gateway >= pool.start && gateway <= pool.end) {
      throw typedError(409, 'GatewayConflictWithAllocationPools',
        `Gateway ip ${formatIp(version, gateway)} conflicts with allocation pool ${rangeText(version, pool)}.`);
    }
  }
}
