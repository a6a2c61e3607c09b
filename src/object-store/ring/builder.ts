// The ring builder (swift-ring-builder's RingBuilder): the devices, their weights and the
// partition table, kept between rebalances in <kind>.builder.json, from which the ring file
// (ring-data.ts) is produced. Changes to devices take effect at the next rebalance, so many
// can be made at once; each partition records when it last moved, so a rebalance within
// min_part_hours moves none of it again (only a removed device's replicas must move).
import { buildReplicaPlan, tierKeys, topologyMax } from './plan.ts';
import { seededRandom } from './random.ts';
import { NONE, reassign, RebalanceError } from './rebalance.ts';
import { address, checkRingData, RingDataError, type RingData } from './ring-data.ts';
import type { RingDevice } from './types.ts';

/** A request the builder cannot carry out; the message says why. */
export class RingBuilderError extends Error {
  override name = 'RingBuilderError';
}

export interface NewDevice {
  /** default: the lowest free id */
  id?: number;
  /** default 1 */
  region?: number;
  zone: number;
  ip: string;
  port: number;
  device: string;
  weight: number;
  meta?: string;
}

export interface RebalanceOptions {
  /** the same seed on the same builder gives the same ring */
  seed?: number;
  /** the clock, in ms since the epoch (tests pass their own) */
  now?: number;
}

export interface RebalanceResult {
  /** replica-partitions now on another device */
  moved: number;
  balance: number;
  dispersion: number;
  removedDevices: number;
}

/** The balance shown for a device that has partitions but no weight. */
export const MAX_BALANCE = 999.99;

const BUILDER_FORMAT = 'tenrec-ring-builder/1';

export class RingBuilder {
  readonly partPower: number;
  readonly replicas: number;
  minPartHours: number;
  /** bumped by every change, like swift-ring-builder's build version */
  version = 0;
  /** devices were added, removed or reweighted since the last rebalance */
  devsChanged = false;
  #devices: (RingDevice | null)[] = [];
  #removing = new Set<number>();
  #table: Int32Array[] | null = null;
  /** per partition: when it last moved, seconds since the epoch; 0: never */
  #movedAt: Float64Array;
  /** when the last rebalance moved anything, seconds since the epoch */
  #lastMoveAt = 0;

  constructor(partPower: number, replicas: number, minPartHours: number) {
    if (!Number.isInteger(partPower) || partPower < 0 || partPower > 24) {
      throw new RingBuilderError(`part_power must be a whole number 0..24 (was ${partPower})`);
    }
    if (!Number.isInteger(replicas) || replicas < 1 || replicas > 31) {
      throw new RingBuilderError(`replicas must be a whole number 1..31 (was ${replicas})`);
    }
    if (!Number.isInteger(minPartHours) || minPartHours < 0) {
      throw new RingBuilderError(`min_part_hours must be a non-negative whole number (was ${minPartHours})`);
    }
    this.partPower = partPower;
    this.replicas = replicas;
    this.minPartHours = minPartHours;
    this.#movedAt = new Float64Array(2 ** partPower);
  }

  get parts(): number {
    return 2 ** this.partPower;
  }

  /** Copies of every device slot, indexed by id. */
  get devices(): (RingDevice | null)[] {
    return this.#devices.map((d) => (d ? { ...d } : null));
  }

  get everRebalanced(): boolean {
    return this.#table !== null;
  }

  /** Marked for removal at the next rebalance (swift-ring-builder's DEL flag). */
  isRemoving(id: number): boolean {
    return this.#removing.has(id);
  }

  /** How many partition-replicas each device holds, indexed by id. */
  partCounts(): number[] {
    const counts = new Array<number>(this.#devices.length).fill(0);
    for (const row of this.#table ?? []) for (const id of row) if (id !== NONE) counts[id]!++;
    return counts;
  }

  addDevice(spec: NewDevice): number {
    const dev = checkNewDevice(spec);
    const taken = this.#devices.find((d) => d && d.ip === dev.ip && d.port === dev.port && d.device === dev.device);
    if (taken) throw new RingBuilderError(`Device ${taken.id} already uses ${address(taken)}/${taken.device}`);
    let id = spec.id;
    if (id === undefined) {
      id = this.#devices.indexOf(null);
      if (id < 0) id = this.#devices.length;
    } else if (!Number.isInteger(id) || id < 0) {
      throw new RingBuilderError(`device id must be a non-negative whole number (was ${id})`);
    } else if (this.#devices[id]) {
      throw new RingBuilderError(`Duplicate device id: ${id}`);
    }
    while (this.#devices.length <= id) this.#devices.push(null);
    this.#devices[id] = { id, ...dev };
    this.#changed();
    return id;
  }

  /** Marks a device for removal: its partitions move at the next rebalance, which drops it. */
  removeDevice(id: number): void {
    const dev = this.#device(id);
    dev.weight = 0;
    this.#removing.add(id);
    this.#changed();
  }

  setWeight(id: number, weight: number): void {
    const dev = this.#device(id);
    if (this.#removing.has(id)) throw new RingBuilderError(`Can not set weight of dev_id ${id} because it is marked for removal`);
    if (!Number.isFinite(weight) || weight < 0) throw new RingBuilderError(`weight must be a non-negative number (was ${weight})`);
    dev.weight = weight;
    this.#changed();
  }

  /** Seconds until the partitions moved by the last rebalance may move again. */
  minPartSecondsLeft(now = Date.now()): number {
    return Math.max(0, Math.ceil(this.minPartHours * 3600 - (now / 1000 - this.#lastMoveAt)));
  }

  /** Lets the next rebalance move every partition, as if min_part_hours had passed. */
  pretendMinPartHoursPassed(): void {
    this.#movedAt.fill(0);
    this.#lastMoveAt = 0;
    this.version++;
  }

  rebalance(options: RebalanceOptions = {}): RebalanceResult {
    const now = (options.now ?? Date.now()) / 1000;
    const old = this.#table?.map((row) => row.slice()) ?? null;
    const table = this.#table?.map((row) => row.slice()) ?? Array.from({ length: this.replicas }, () => new Int32Array(this.parts).fill(NONE));
    const minAge = this.minPartHours * 3600;
    try {
      reassign({
        devices: this.#devices,
        removing: this.#removing,
        table,
        parts: this.parts,
        canMove: (p) => now - this.#movedAt[p]! >= minAge,
        random: seededRandom(options.seed),
      });
    } catch (err) {
      if (err instanceof RebalanceError) throw new RingBuilderError(err.message);
      throw err;
    }
    let moved = 0;
    for (let p = 0; p < this.parts; p++) {
      let changed = 0;
      for (let r = 0; r < this.replicas; r++) if (!old || old[r]![p] !== table[r]![p]) changed++;
      moved += changed;
      if (changed > 0) this.#movedAt[p] = now;
    }
    if (moved > 0) this.#lastMoveAt = now;
    this.#table = table;
    const removedDevices = this.#removing.size;
    for (const id of this.#removing) this.#devices[id] = null;
    this.#removing.clear();
    while (this.#devices.length > 0 && this.#devices.at(-1) === null) this.#devices.pop();
    this.devsChanged = false;
    this.version++;
    return { moved, balance: this.getBalance(), dispersion: this.getDispersion(), removedDevices };
  }

  /**
   * Per device: how far its partition count is from its weight's share, in percent (swift's
   * balance); MAX_BALANCE for a device with partitions and no weight.
   */
  balancePerDevice(): Map<number, number> {
    const counts = this.partCounts();
    const totalWeight = this.#devices.reduce((sum, d) => sum + (d?.weight ?? 0), 0);
    const balance = new Map<number, number>();
    for (const dev of this.#devices) {
      if (!dev) continue;
      const parts = counts[dev.id]!;
      if (dev.weight === 0) balance.set(dev.id, parts > 0 ? MAX_BALANCE : 0);
      else balance.set(dev.id, (100 * parts) / ((dev.weight * this.parts * this.replicas) / totalWeight) - 100);
    }
    return balance;
  }

  /** The worst device's balance; 0 for a ring without weight. */
  getBalance(): number {
    return Math.max(0, ...[...this.balancePerDevice().values()].map(Math.abs));
  }

  /**
   * The percentage of replica-partitions at risk: on top of another replica of the same
   * partition in a region, zone, server or device that, with replicas spread as evenly as
   * the topology allows, would not hold that many (swift-ring-builder's dispersion).
   */
  getDispersion(): number {
    if (!this.#table) return 0;
    const weighted = this.#devices.filter((d): d is RingDevice => d !== null && d.weight > 0 && !this.#removing.has(d.id));
    const max = topologyMax(weighted, this.replicas);
    let atRisk = 0;
    for (let p = 0; p < this.parts; p++) {
      const counts = [new Map<string, number>(), new Map<string, number>(), new Map<string, number>(), new Map<string, number>()];
      for (const row of this.#table) {
        tierKeys(this.#devices[row[p]!]!).forEach((key, depth) => counts[depth]!.set(key, (counts[depth]!.get(key) ?? 0) + 1));
      }
      // a partition's replicas at risk: the excess at its worst-dispersed level
      const excess = counts.map((level) => [...level].reduce((sum, [key, n]) => sum + Math.max(0, n - (max.get(key) ?? 0)), 0));
      atRisk += Math.max(...excess);
    }
    return (100 * atRisk) / (this.parts * this.replicas);
  }

  /** Partition-replicas each device should hold by the current weights (the rebalance target). */
  wantedParts(): Map<number, number> {
    const active = this.#devices.filter((d): d is RingDevice => d !== null && d.weight > 0 && !this.#removing.has(d.id));
    if (active.length < this.replicas) return new Map();
    const plan = buildReplicaPlan(active, this.replicas, this.parts);
    return new Map([...plan.leaves].map(([id, leaf]) => [id, leaf.quota]));
  }

  /** What the ring file holds. */
  toRingData(): RingData {
    if (!this.#table) throw new RingBuilderError('the builder has never been rebalanced; run rebalance first');
    return {
      partPower: this.partPower,
      replicaCount: this.replicas,
      devices: this.devices,
      replica2part2dev: this.#table.map((row) => Array.from(row)),
    };
  }

  toJSON(): BuilderData {
    return {
      format: BUILDER_FORMAT,
      partPower: this.partPower,
      replicas: this.replicas,
      minPartHours: this.minPartHours,
      version: this.version,
      devsChanged: this.devsChanged,
      devices: this.devices,
      removing: [...this.#removing].sort((a, b) => a - b),
      replica2part2dev: this.#table?.map((row) => Array.from(row)) ?? null,
      partMovedAt: Array.from(this.#movedAt),
      lastMoveAt: this.#lastMoveAt,
    };
  }

  /** The inverse of toJSON; throws RingBuilderError saying what is wrong with `value`. */
  static fromJSON(value: unknown): RingBuilder {
    const fail = (what: string): never => {
      throw new RingBuilderError(what);
    };
    if (typeof value !== 'object' || value === null) fail('not a JSON object');
    const data = value as Partial<Record<keyof BuilderData, unknown>>;
    if (data.format !== BUILDER_FORMAT) fail(`not a ring builder (format is not '${BUILDER_FORMAT}')`);
    const builder = new RingBuilder(data.partPower as number, data.replicas as number, data.minPartHours as number);
    if (!Array.isArray(data.devices)) fail('devices must be an array');
    if (data.replica2part2dev !== null) {
      // The table and devices must make a valid ring; reuse the ring file's checks.
      try {
        checkRingData({ partPower: builder.partPower, replicaCount: builder.replicas, devices: data.devices, replica2part2dev: data.replica2part2dev });
      } catch (err) {
        if (err instanceof RingDataError) fail(err.message);
        throw err;
      }
    }
    (data.devices as (RingDevice | null)[]).forEach((dev, id) => {
      if (dev === null) builder.#devices.push(null);
      else {
        if (dev?.id !== id) fail(`devices[${id}].id must be ${id}`);
        builder.addDevice({ ...dev, id });
      }
    });
    if (!Array.isArray(data.removing) || !data.removing.every((id) => builder.#devices[id as number])) fail('removing must list devices in the ring');
    for (const id of data.removing as number[]) builder.#removing.add(id);
    if (data.replica2part2dev !== null) builder.#table = (data.replica2part2dev as number[][]).map((row) => Int32Array.from(row));
    const movedAt = data.partMovedAt;
    if (!Array.isArray(movedAt) || movedAt.length !== builder.parts || !movedAt.every((t) => typeof t === 'number' && t >= 0)) {
      fail(`partMovedAt must hold ${builder.parts} times`);
    }
    builder.#movedAt = Float64Array.from(movedAt as number[]);
    if (typeof data.lastMoveAt !== 'number' || !(data.lastMoveAt >= 0)) fail('lastMoveAt must be a time');
    builder.#lastMoveAt = data.lastMoveAt as number;
    builder.devsChanged = data.devsChanged === true;
    builder.version = typeof data.version === 'number' ? data.version : 0;
    return builder;
  }

  #device(id: number): RingDevice {
    const dev = this.#devices[id];
    if (!dev) throw new RingBuilderError(`no device with id ${id}`);
    return dev;
  }

  #changed(): void {
    this.devsChanged = true;
    this.version++;
  }
}

/** The contents of <kind>.builder.json. */
export interface BuilderData {
  format: string;
  partPower: number;
  replicas: number;
  minPartHours: number;
  version: number;
  devsChanged: boolean;
  devices: (RingDevice | null)[];
  removing: number[];
  replica2part2dev: number[][] | null;
  partMovedAt: number[];
  lastMoveAt: number;
}

function checkNewDevice(spec: NewDevice): Omit<RingDevice, 'id'> {
  const region = spec.region ?? 1;
  const whole = (v: unknown) => Number.isInteger(v) && (v as number) >= 0;
  if (!whole(region)) throw new RingBuilderError(`region must be a non-negative whole number (was ${region})`);
  if (!whole(spec.zone)) throw new RingBuilderError(`zone must be a non-negative whole number (was ${spec.zone})`);
  if (typeof spec.ip !== 'string' || spec.ip === '') throw new RingBuilderError('ip must not be empty');
  if (!whole(spec.port) || spec.port > 65535) throw new RingBuilderError(`port must be 0..65535 (was ${spec.port})`);
  if (!validDeviceName(spec.device)) throw new RingBuilderError(`Invalid device name '${spec.device}'`);
  if (!Number.isFinite(spec.weight) || spec.weight < 0) throw new RingBuilderError(`weight must be a non-negative number (was ${spec.weight})`);
  return { region, zone: spec.zone, ip: spec.ip, port: spec.port, device: spec.device, weight: spec.weight, meta: spec.meta ?? '' };
}

/** A device name is a directory under the storage server's devices root. */
export function validDeviceName(name: unknown): name is string {
  return typeof name === 'string' && name.trim() === name && name !== '' && name !== '.' && name !== '..' && !/[/\0]/.test(name);
}
