// A ring over one fixed table (what a ring file holds): which devices hold each replica of
// each partition, and the handoffs to try when they are down. It never reloads; RingHolder
// (file.ts) swaps in a new one when the file changes.
import { createHash } from 'node:crypto';
import { hashPath, partitionOf, type HashSecrets } from './hash.ts';
import type { Ring, RingDevice } from './types.ts';

/** The serialized ring: the contents of <kind>.ring.json. */
export interface RingData {
  partPower: number;
  replicaCount: number;
  /** indexed by device id; null where a device was removed */
  devices: (RingDevice | null)[];
  /** replica2part2dev[replica][partition] is a device id */
  replica2part2dev: number[][];
}

/** The data is not a usable ring; the message says what is wrong with it. */
export class RingDataError extends Error {
  override name = 'RingDataError';
}

/** The failure domains a device belongs to, widest first: region, zone, server (ip:port). */
export function regionOf(dev: RingDevice): string {
  return `r${dev.region}`;
}
export function zoneOf(dev: RingDevice): string {
  return `r${dev.region}z${dev.zone}`;
}
export function serverOf(dev: RingDevice): string {
  return `r${dev.region}z${dev.zone}-${address(dev)}`;
}

/** ip:port, with an IPv6 address in brackets. */
export function address(dev: Pick<RingDevice, 'ip' | 'port'>): string {
  return `${dev.ip.includes(':') ? `[${dev.ip}]` : dev.ip}:${dev.port}`;
}

export class StaticRing implements Ring {
  readonly partPower: number;
  readonly replicaCount: number;
  readonly devices: readonly (RingDevice | null)[];
  readonly #table: Uint32Array[];
  readonly #secrets: HashSecrets;
  // Only devices that hold some partition count: a region with no partitions yet must not
  // keep the handoff search looking for it.
  readonly #regions: number;
  readonly #zones: number;
  readonly #servers: number;
  readonly #assigned: number;

  constructor(data: RingData, secrets: HashSecrets) {
    checkRingData(data);
    this.partPower = data.partPower;
    this.replicaCount = data.replicaCount;
    this.devices = Object.freeze(data.devices.map((d) => (d ? Object.freeze({ ...d }) : null)));
    this.#table = data.replica2part2dev.map((row) => Uint32Array.from(row));
    this.#secrets = { ...secrets };
    const used = new Set<number>();
    for (const row of this.#table) for (const id of row) used.add(id);
    const devs = [...used].map((id) => this.devices[id]!);
    this.#regions = new Set(devs.map(regionOf)).size;
    this.#zones = new Set(devs.map(zoneOf)).size;
    this.#servers = new Set(devs.map(serverOf)).size;
    this.#assigned = devs.length;
  }

  get partitionCount(): number {
    return 2 ** this.partPower;
  }

  getPartition(account: string, container?: string, object?: string): number {
    return partitionOf(hashPath(account, container, object, this.#secrets).digest, this.partPower);
  }

  getNodes(account: string, container?: string, object?: string): { partition: number; nodes: RingDevice[] } {
    const partition = this.getPartition(account, container, object);
    return { partition, nodes: this.getPartNodes(partition) };
  }

  /** One device per replica, in replica order; a device holding two replicas is listed once. */
  getPartNodes(partition: number): RingDevice[] {
    this.#checkPartition(partition);
    const nodes: RingDevice[] = [];
    const seen = new Set<number>();
    for (const row of this.#table) {
      const id = row[partition]!;
      if (seen.has(id)) continue;
      seen.add(id);
      nodes.push(this.devices[id]!);
    }
    return nodes;
  }

  /**
   * Handoffs, as Swift's get_more_nodes: walking the table from a point derived from the
   * partition, first devices in regions the primaries do not use, then in unused zones, then
   * on unused servers, then any device not yet given. The order is the same on every host
   * and changes little when the ring does.
   */
  *getMoreNodes(partition: number): Generator<RingDevice> {
    const primaries = this.getPartNodes(partition);
    const used = new Set(primaries.map((d) => d.id));
    const regions = new Set(primaries.map(regionOf));
    const zones = new Set(primaries.map(zoneOf));
    const servers = new Set(primaries.map(serverOf));
    const take = (dev: RingDevice) => {
      used.add(dev.id);
      regions.add(regionOf(dev));
      zones.add(zoneOf(dev));
      servers.add(serverOf(dev));
      return dev;
    };
    const passes: [(dev: RingDevice) => boolean, () => boolean][] = [
      [(dev) => !regions.has(regionOf(dev)), () => regions.size >= this.#regions],
      [(dev) => !zones.has(zoneOf(dev)), () => zones.size >= this.#zones],
      [(dev) => !servers.has(serverOf(dev)), () => servers.size >= this.#servers],
      [() => true, () => used.size >= this.#assigned],
    ];
    for (const [fresh, exhausted] of passes) {
      for (const part of this.#handoffOrder(partition)) {
        if (exhausted()) break;
        for (const row of this.#table) {
          const dev = this.devices[row[part]!]!;
          if (used.has(dev.id) || !fresh(dev)) continue;
          yield take(dev);
          if (exhausted()) break;
        }
      }
    }
  }

  /** Every partition once, striding from a start derived from md5(partition). */
  *#handoffOrder(partition: number): Generator<number> {
    const parts = this.partitionCount;
    const start = partitionOf(createHash('md5').update(String(partition), 'ascii').digest(), this.partPower);
    // Big rings take a stride so a handoff search touches at most ~65536 partitions per pass.
    const inc = Math.floor(parts / 65536) || 1;
    for (let p = start; p < parts; p += inc) yield p;
    // continue the stride past the end, around to the start
    for (let p = (inc - ((parts - start) % inc)) % inc; p < start; p += inc) yield p;
  }

  #checkPartition(partition: number): void {
    if (!Number.isInteger(partition) || partition < 0 || partition >= this.partitionCount) {
      throw new RangeError(`partition ${partition} is outside 0..${this.partitionCount - 1}`);
    }
  }
}

const isInt = (v: unknown, min: number, max = Number.MAX_SAFE_INTEGER): v is number => Number.isInteger(v) && (v as number) >= min && (v as number) <= max;

/** Throws RingDataError unless `value` is a complete, consistent ring table. */
export function checkRingData(value: unknown): asserts value is RingData {
  const fail = (what: string): never => {
    throw new RingDataError(what);
  };
  if (typeof value !== 'object' || value === null) fail('not a JSON object');
  const data = value as Record<string, unknown>;
  if (!isInt(data.partPower, 0, 32)) fail('partPower must be an integer 0..32');
  if (!isInt(data.replicaCount, 1)) fail('replicaCount must be a whole number of at least 1');
  if (!Array.isArray(data.devices)) fail('devices must be an array');
  const devices = data.devices as unknown[];
  devices.forEach((d, i) => {
    if (d === null) return;
    const dev = d as Record<string, unknown>;
    if (typeof d !== 'object') fail(`devices[${i}] must be an object or null`);
    if (dev.id !== i) fail(`devices[${i}].id must be ${i}`);
    for (const key of ['region', 'zone'] as const) if (!isInt(dev[key], 0)) fail(`devices[${i}].${key} must be a non-negative integer`);
    if (typeof dev.weight !== 'number' || !(dev.weight >= 0)) fail(`devices[${i}].weight must be a non-negative number`);
    if (typeof dev.ip !== 'string' || dev.ip === '') fail(`devices[${i}].ip must be a non-empty string`);
    if (!isInt(dev.port, 0, 65535)) fail(`devices[${i}].port must be 0..65535`);
    if (typeof dev.device !== 'string' || dev.device === '') fail(`devices[${i}].device must be a non-empty string`);
    if (dev.meta !== undefined && typeof dev.meta !== 'string') fail(`devices[${i}].meta must be a string`);
  });
  const table = data.replica2part2dev;
  if (!Array.isArray(table) || table.length !== data.replicaCount) fail(`replica2part2dev must have replicaCount (${String(data.replicaCount)}) rows`);
  const parts = 2 ** (data.partPower as number);
  (table as unknown[]).forEach((row, r) => {
    if (!Array.isArray(row) || row.length !== parts) fail(`replica2part2dev[${r}] must have ${parts} entries`);
    for (let p = 0; p < parts; p++) {
      const id = (row as unknown[])[p];
      if (!isInt(id, 0, devices.length - 1) || devices[id] === null) fail(`replica2part2dev[${r}][${p}] is not a device in the ring`);
    }
  });
}
