// The work of a rebalance, on the builder's table in place. In order:
//   1. replicas with no device (a new ring) and replicas on removed devices need a home;
//   2. a partition with too many replicas in one failure domain (more than the plan's max,
//      e.g. after a zone was added, or on a device drained to weight 0) gives one up;
//   3. each of those goes to the roomiest place the plan allows: region, then zone, then
//      server, then device, each the one still wanting the most partitions;
//   4. devices above their quota hand partitions to devices below theirs, one replica at a
//      time and only where the move keeps the partition within the plan, until none is above.
// A partition gives up at most one replica per rebalance (more only when its devices were
// removed), and only when min_part_hours have passed since it last moved (canMove); a
// replica placed during this rebalance may be placed again, since it has not moved yet.
import { buildReplicaPlan, tierKeys, type ReplicaPlan, type TierNode } from './plan.ts';
import type { Random } from './random.ts';
import type { RingDevice } from './types.ts';

/** Marks a replica with no device in the builder's table. */
export const NONE = -1;

export interface RebalanceInput {
  /** every device slot, including those being removed */
  devices: readonly (RingDevice | null)[];
  removing: ReadonlySet<number>;
  /** table[replica][partition] → device id or NONE; changed in place */
  table: Int32Array[];
  parts: number;
  /** min_part_hours allow this partition to move */
  canMove(partition: number): boolean;
  random: Random;
}

/** Balance sweeps over the whole ring before settling for what could be reached. */
const MAX_SWEEPS = 8;

export class RebalanceError extends Error {
  override name = 'RebalanceError';
}

export function reassign(input: RebalanceInput): void {
  new Rebalance(input).run();
}

class Rebalance {
  readonly #in: RebalanceInput;
  readonly #table: Int32Array[];
  readonly #plan: ReplicaPlan;
  readonly #parts: Int32Array;
  /** per tier: partition-replicas still wanted (leaves: may be negative; others: sum of positive) */
  readonly #avail = new Map<TierNode, number>();
  /** per active device: its region, zone, server and device nodes */
  readonly #path = new Map<number, TierNode[]>();
  /** touched[replica][partition]: this replica was taken off its device during this rebalance */
  readonly #touched: Uint8Array[];
  #overweight = 0;

  constructor(input: RebalanceInput) {
    this.#in = input;
    this.#table = input.table;
    const active = input.devices.filter((d): d is RingDevice => d !== null && !input.removing.has(d.id) && d.weight > 0);
    if (active.length < this.#table.length) {
      throw new RebalanceError(`${this.#table.length} replicas need at least ${this.#table.length} devices with weight; the ring has ${active.length}`);
    }
    this.#plan = buildReplicaPlan(active, this.#table.length, input.parts);
    this.#touched = this.#table.map(() => new Uint8Array(input.parts));
    this.#parts = new Int32Array(input.devices.length);
    for (const row of this.#table) for (const id of row) if (id !== NONE) this.#parts[id]!++;
    for (const dev of active) {
      const [region, zone, server, device] = tierKeys(dev).map((k) => this.#plan.byKey.get(k)!) as [TierNode, TierNode, TierNode, TierNode];
      this.#path.set(dev.id, [region, zone, server, device]);
    }
    for (const node of this.#plan.byKey.values()) this.#avail.set(node, 0);
    for (const [id, path] of this.#path) {
      const want = this.#wanted(id) - this.#parts[id]!;
      this.#avail.set(path[3]!, want);
      for (const node of path.slice(0, 3)) this.#avail.set(node, this.#avail.get(node)! + Math.max(want, 0));
    }
    input.devices.forEach((d, id) => {
      if (d && this.#parts[id]! > this.#wanted(id)) this.#overweight++;
    });
  }

  run(): void {
    const pending: [number, number][] = [];
    const { parts } = this.#in;
    for (let r = 0; r < this.#table.length; r++) {
      for (let p = 0; p < parts; p++) {
        const id = this.#table[r]![p]!;
        if (id === NONE || this.#in.removing.has(id)) {
          this.#take(r, p);
          pending.push([p, r]);
        }
      }
    }
    for (let p = 0; p < parts; p++) {
      const r = this.#undispersed(p);
      if (r !== undefined) {
        this.#take(r, p);
        pending.push([p, r]);
      }
    }
    this.#placeAll(pending);
    for (let sweep = 0; sweep < MAX_SWEEPS && this.#overweight > 0; sweep++) {
      if (this.#sweep() === 0) break;
    }
  }

  #wanted(id: number): number {
    return this.#path.get(id)?.[3]!.quota ?? 0;
  }

  #maxOf(key: string): number {
    return this.#plan.byKey.get(key)?.max ?? 0;
  }

  #mayGiveUp(r: number, p: number): boolean {
    if (this.#touched[r]![p]) return true;
    return !this.#touched.some((row) => row[p]) && this.#in.canMove(p);
  }

  /** How many replicas of partition p each tier holds. */
  #counts(p: number): Map<string, number> {
    const counts = new Map<string, number>();
    for (const row of this.#table) {
      const id = row[p]!;
      if (id === NONE) continue;
      for (const key of tierKeys(this.#in.devices[id]!)) counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    return counts;
  }

  /** A replica of p sitting where the plan allows fewer (the one on the most overloaded device). */
  #undispersed(p: number): number | undefined {
    const counts = this.#counts(p);
    let best: number | undefined;
    for (let r = 0; r < this.#table.length; r++) {
      const id = this.#table[r]![p]!;
      if (id === NONE || !this.#mayGiveUp(r, p)) continue;
      if (!tierKeys(this.#in.devices[id]!).some((k) => counts.get(k)! > this.#maxOf(k))) continue;
      if (best === undefined || this.#excess(id) > this.#excess(this.#table[best]![p]!)) best = r;
    }
    return best;
  }

  #excess(id: number): number {
    return this.#parts[id]! - this.#wanted(id);
  }

  #placeAll(pending: [number, number][]): void {
    const byPart = new Map<number, number[]>();
    for (const [p, r] of pending) byPart.set(p, [...(byPart.get(p) ?? []), r]);
    // No order is better than another; shuffling keeps any one device from filling up first.
    for (const p of this.#in.random.shuffled([...byPart.keys()])) {
      for (const r of byPart.get(p)!) {
        const id = this.#choose(this.#counts(p));
        if (id === undefined) throw new RebalanceError(`no device can take partition ${p} replica ${r}`);
        this.#set(r, p, id);
      }
    }
  }

  /** One pass over the ring (from a random point) moving replicas off overweight devices. */
  #sweep(): number {
    const { parts, random } = this.#in;
    const start = random.below(parts);
    let moved = 0;
    for (let i = 0; i < parts && this.#overweight > 0; i++) {
      const p = (start + i) % parts;
      const heavy: number[] = [];
      for (let r = 0; r < this.#table.length; r++) {
        const id = this.#table[r]![p]!;
        if (id !== NONE && this.#excess(id) > 0 && this.#mayGiveUp(r, p)) heavy.push(r);
      }
      heavy.sort((a, b) => this.#excess(this.#table[b]![p]!) - this.#excess(this.#table[a]![p]!));
      for (const r of heavy) {
        if (this.#moveOff(r, p)) {
          moved++;
          break;
        }
      }
    }
    return moved;
  }

  /** Moves replica r of p to a device that wants it more, if the plan allows; else leaves it. */
  #moveOff(r: number, p: number): boolean {
    const from = this.#table[r]![p]!;
    this.#set(r, p, NONE);
    const counts = this.#counts(p);
    const to = this.#choose(counts);
    const draining = !this.#path.has(from);
    const fits = (id: number) => tierKeys(this.#in.devices[id]!).every((k) => (counts.get(k) ?? 0) < this.#maxOf(k));
    if (to !== undefined && to !== from && (draining || (this.#excess(to) < 0 && fits(to)))) {
      this.#set(r, p, to);
      this.#touched[r]![p] = 1;
      return true;
    }
    this.#set(r, p, from);
    return false;
  }

  /**
   * The device for one more replica of a partition with these tier counts: at each level the
   * child still wanting the most, among those below the plan's max for this partition (or,
   * when none is, those holding the fewest replicas of it), never a device holding it already.
   */
  #choose(counts: Map<string, number>): number | undefined {
    let node = this.#plan.root;
    while (node.deviceId === undefined) {
      const count = (c: TierNode) => counts.get(c.key) ?? 0;
      const free = node.children.filter((c) => count(c) < c.deviceCount);
      if (free.length === 0) return undefined;
      let pool = free.filter((c) => count(c) < c.max);
      if (pool.length === 0) {
        const fewest = Math.min(...free.map(count));
        pool = free.filter((c) => count(c) === fewest);
      }
      const most = Math.max(...pool.map((c) => this.#avail.get(c)!));
      const best = pool.filter((c) => this.#avail.get(c)! === most);
      node = best[this.#in.random.below(best.length)]!;
    }
    return node.deviceId;
  }

  #take(r: number, p: number): void {
    this.#set(r, p, NONE);
    this.#touched[r]![p] = 1;
  }

  #set(r: number, p: number, id: number): void {
    const old = this.#table[r]![p]!;
    if (old === id) return;
    if (old !== NONE) this.#count(old, -1);
    this.#table[r]![p] = id;
    if (id !== NONE) this.#count(id, +1);
  }

  #count(id: number, delta: number): void {
    const wasOver = this.#excess(id) > 0;
    const path = this.#path.get(id);
    const before = this.#wanted(id) - this.#parts[id]!;
    this.#parts[id]! += delta;
    const after = before - delta;
    if (path) {
      this.#avail.set(path[3]!, after);
      const change = Math.max(after, 0) - Math.max(before, 0);
      for (const node of path.slice(0, 3)) this.#avail.set(node, this.#avail.get(node)! + change);
    }
    this.#overweight += Number(this.#excess(id) > 0) - Number(wasOver);
  }
}
