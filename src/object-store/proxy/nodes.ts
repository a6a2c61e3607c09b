// The storage nodes a request may try for one partition: its primaries (in random order, so
// reads spread over the replicas), then handoffs, at most twice the replica count in all
// (Swift's request_node_count). Concurrent requests draw from one iterator, so a handoff that
// replaces a failed primary is never handed to two of them.
import type { Ring, RingDevice } from '../ring/types.ts';

export interface NodeChoice {
  node: RingDevice;
  /** not one of the partition's primaries: a 404 from it without a tombstone proves nothing */
  handoff: boolean;
}

function shuffled<T>(items: readonly T[]): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

export class NodeIter {
  readonly primaryCount: number;
  readonly #primaries: RingDevice[];
  readonly #handoffs: Iterator<RingDevice>;
  #left: number;

  constructor(ring: Ring, partition: number) {
    this.#primaries = shuffled(ring.getPartNodes(partition));
    this.primaryCount = this.#primaries.length;
    this.#handoffs = ring.getMoreNodes(partition)[Symbol.iterator]();
    this.#left = 2 * this.primaryCount;
  }

  /** The next node to try; undefined when the allowance is spent or the ring has no more. */
  next(): NodeChoice | undefined {
    if (this.#left <= 0) return undefined;
    this.#left -= 1;
    const primary = this.#primaries.shift();
    if (primary) return { node: primary, handoff: false };
    const more = this.#handoffs.next();
    return more.done ? undefined : { node: more.value, handoff: true };
  }
}
