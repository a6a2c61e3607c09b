// Provider segments of networks: validation of what an admin asks for, and allocation of
// segmentation ids from the configured ranges when none is given (ML2's type drivers).
//
// Race-free without locks: a segment is a row of network_segment whose unique constraint
// segment_allocation (network_type, physical_network, segmentation_id) is the allocation
// table. We read the ids in use, insert the lowest free one and, when another API process won
// the same id meanwhile, the insert is a unique violation: the caller's transaction is rolled
// back and retried (a violation aborts a PostgreSQL transaction, so the retry must be a new one).
import { isUniqueViolation } from '../../core/db/index.ts';
import { typedError } from '../../core/http/index.ts';
import type { NetTx } from '../db/database.ts';
import type { SegmentTable } from '../db/schema.ts';
import type { NetworkSettings } from '../network-settings.ts';

export const NETWORK_TYPES = ['flat', 'vlan', 'vxlan', 'local'] as const;
export const MAX_VLAN = 4094;
export const MAX_VNI = 2 ** 24 - 1;
/** VXLAN over IPv4: 20 (IP) + 8 (UDP) + 8 (VXLAN) + 14 (inner Ethernet) bytes. */
export const VXLAN_OVERHEAD = 50;

/** A segment as the API takes it (provider:* attributes, or one entry of `segments`). */
export interface SegmentRequest {
  network_type?: unknown;
  physical_network?: unknown;
  segmentation_id?: unknown;
}

/** A validated segment; segmentation_id undefined means "allocate one". */
export interface SegmentSpec {
  network_type: string;
  /** '' when the type has none */
  physical_network: string;
  segmentation_id: number | null | undefined;
}

/** Thrown inside the write when an allocated id was taken concurrently: retry the write. */
export class AllocationRace extends Error {
  constructor() {
    super('segmentation id taken concurrently');
  }
}

const invalid = (message: string) => typedError(400, 'InvalidInput', `Invalid input for operation: ${message}.`);
const noNetworkAvailable = () =>
  typedError(503, 'NoNetworkAvailable', 'Unable to create the network. No tenant network is available for allocation.');

const given = (v: unknown) => v !== undefined && v !== null && v !== '';

function segmentationId(value: unknown): number {
  const n = typeof value === 'string' && /^\d+$/.test(value.trim()) ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isInteger(n)) {
    throw typedError(400, 'HTTPBadRequest', `Invalid input for provider:segmentation_id. Reason: '${String(value)}' is not an integer.`);
  }
  return n;
}

/** Checks an explicitly requested segment as ML2's type drivers do (InvalidInput on error). */
export function validateSegment(settings: NetworkSettings, request: SegmentRequest): SegmentSpec {
  const type = request.network_type;
  if (!given(type)) throw invalid('network_type required');
  if (typeof type !== 'string' || !(NETWORK_TYPES as readonly string[]).includes(type)) {
    throw invalid(`network_type value '${String(type)}' not supported`);
  }
  const physnet = given(request.physical_network) ? String(request.physical_network) : '';
  const segId = given(request.segmentation_id) ? segmentationId(request.segmentation_id) : undefined;
  switch (type) {
    case 'flat':
      if (!physnet) throw invalid('physical_network required for flat provider network');
      if (!settings.flatNetworks.includes('*') && !settings.flatNetworks.includes(physnet)) {
        throw invalid(`physical_network '${physnet}' unknown for flat provider network`);
      }
      if (segId !== undefined) throw invalid('segmentation_id prohibited for flat provider network');
      return { network_type: type, physical_network: physnet, segmentation_id: 0 };
    case 'vlan':
      if (!physnet) {
        if (segId !== undefined) throw invalid('segmentation_id requires physical_network for VLAN provider network');
        // no physnet: allocated from any configured range, as a project network is
        return { network_type: type, physical_network: '', segmentation_id: undefined };
      }
      if (!settings.vlanRanges.some((r) => r.physnet === physnet)) {
        throw invalid(`physical_network '${physnet}' unknown for VLAN provider network`);
      }
      if (segId !== undefined && (segId < 1 || segId > MAX_VLAN)) {
        throw invalid(`segmentation_id out of range (1 through ${MAX_VLAN})`);
      }
      return { network_type: type, physical_network: physnet, segmentation_id: segId };
    case 'vxlan':
      if (physnet) throw invalid('provider:physical_network specified for vxlan network');
      if (segId !== undefined && (segId < 1 || segId > MAX_VNI)) {
        throw invalid(`segmentation_id out of range (1 through ${MAX_VNI})`);
      }
      return { network_type: type, physical_network: '', segmentation_id: segId };
    default: // local
      if (physnet) throw invalid('provider:physical_network prohibited for local provider network');
      if (segId !== undefined) throw invalid('provider:segmentation_id prohibited for local provider network');
      return { network_type: type, physical_network: '', segmentation_id: null };
  }
}

/** The MTU a network of these segments gets by default: the smallest of its segments'. */
export function defaultMtu(settings: NetworkSettings, segments: { network_type: string }[]): number {
  const mtus = segments.map((s) => (s.network_type === 'vxlan' ? settings.globalPhysnetMtu - VXLAN_OVERHEAD : settings.globalPhysnetMtu));
  return mtus.length ? Math.min(...mtus) : settings.globalPhysnetMtu;
}

/** The segment a project network gets: the first tenant network type that has room. */
export function tenantSegmentSpecs(settings: NetworkSettings): SegmentSpec[] {
  return settings.tenantNetworkTypes.map((type) => ({
    network_type: type,
    physical_network: '',
    segmentation_id: type === 'local' ? null : undefined,
  }));
}

/** The candidate pools of a segment to allocate: [physnet, min, max] ranges in order. */
function pools(settings: NetworkSettings, spec: SegmentSpec): { physnet: string; min: number; max: number }[] {
  if (spec.network_type === 'vxlan') return settings.vniRanges.map((r) => ({ physnet: '', ...r }));
  if (spec.network_type === 'vlan') {
    return settings.vlanRanges.filter((r) => !spec.physical_network || r.physnet === spec.physical_network);
  }
  return [];
}

/**
 * The id to try: the lowest free one on the first attempt; on retries (another process took
 * the lowest meanwhile) a random one among the few lowest free, so racing writers spread out.
 */
async function pickFree(tx: NetTx, settings: NetworkSettings, spec: SegmentSpec, attempt: number) {
  const ranges = pools(settings, spec);
  if (!ranges.length) return undefined;
  const used = new Map<string, Set<number>>();
  const rows = await tx.selectFrom('network_segment').select(['physical_network', 'segmentation_id'])
    .where('network_type', '=', spec.network_type).execute();
  for (const row of rows) {
    if (row.segmentation_id === null) continue;
    const set = used.get(row.physical_network) ?? new Set<number>();
    set.add(Number(row.segmentation_id));
    used.set(row.physical_network, set);
  }
  const want = Math.min(attempt + 1, 16);
  const free: { physnet: string; id: number }[] = [];
  for (const range of ranges) {
    const taken = used.get(range.physnet) ?? new Set<number>();
    for (let id = range.min; id <= range.max && free.length < want; id++) {
      if (!taken.has(id)) free.push({ physnet: range.physnet, id });
    }
    if (free.length >= want) break;
  }
  if (!free.length) return undefined;
  return free[Math.floor(Math.random() * free.length)]!;
}

function inUseError(spec: SegmentSpec) {
  if (spec.network_type === 'flat') {
    return typedError(409, 'FlatNetworkInUse', `Unable to create the flat network. Physical network ${spec.physical_network} is in use.`);
  }
  if (spec.network_type === 'vlan') {
    return typedError(409, 'VlanIdInUse', `Unable to create the network. The VLAN ${spec.segmentation_id} on physical network ${spec.physical_network} is in use.`);
  }
  return typedError(409, 'TunnelIdInUse', `Unable to create the network. The tunnel ID ${spec.segmentation_id} is in use.`);
}

export type SegmentRow = SegmentTable;

/**
 * Inserts a network's segments, allocating ids where needed. `alternatives` is for a project
 * network: the specs to try in order (tenant network types), the first one with room wins.
 * Throws AllocationRace when an allocated id was taken concurrently (retry the transaction),
 * a 409 <Type>InUse for an explicit id in use, 503 NoNetworkAvailable when the ranges are full.
 */
export async function insertSegments(
  tx: NetTx,
  settings: NetworkSettings,
  networkId: string,
  specs: SegmentSpec[][],
  attempt: number,
  newId: () => string,
  timestamp: string,
): Promise<SegmentRow[]> {
  const rows: SegmentRow[] = [];
  for (const [index, alternatives] of specs.entries()) {
    let chosen: { spec: SegmentSpec; allocated: boolean } | undefined;
    for (const spec of alternatives) {
      if (spec.segmentation_id !== undefined) { chosen = { spec, allocated: false }; break; }
      const free = await pickFree(tx, settings, spec, attempt);
      if (free) {
        chosen = { spec: { ...spec, physical_network: free.physnet, segmentation_id: free.id }, allocated: true };
        break;
      }
    }
    if (!chosen) throw noNetworkAvailable();
    const row: SegmentRow = {
      id: newId(),
      network_id: networkId,
      name: null,
      description: '',
      network_type: chosen.spec.network_type,
      physical_network: chosen.spec.physical_network,
      segmentation_id: chosen.spec.segmentation_id ?? null,
      segment_index: index,
      created_at: timestamp,
      updated_at: timestamp,
      revision_number: 0,
    };
    try {
      await tx.insertInto('network_segment').values(row).execute();
    } catch (err) {
      if (!isUniqueViolation(err)) throw err;
      if (chosen.allocated) throw new AllocationRace();
      throw inUseError(chosen.spec);
    }
    rows.push(row);
  }
  return rows;
}

/** Errors after which a write is simply run again: lost allocation races, deadlocks, serialization failures. */
export function isRetryable(err: unknown): boolean {
  if (err instanceof AllocationRace) return true;
  const e = err as { code?: string; errno?: number } | undefined;
  return e?.code === '40001' || e?.code === '40P01' || e?.errno === 1213 || e?.errno === 1205 || e?.code === 'ER_LOCK_DEADLOCK';
}

/** Runs `write(attempt)` until it succeeds or fails for another reason than a lost race. */
export async function withAllocationRetry<T>(write: (attempt: number) => Promise<T>, attempts = 50): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await write(attempt);
    } catch (err) {
      if (!isRetryable(err) || attempt + 1 >= attempts) throw err;
    }
  }
}
