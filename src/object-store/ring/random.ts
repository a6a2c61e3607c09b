// A small seeded generator, so `rebalance --seed N` gives the same ring every time
// (Math.random cannot be seeded).
export interface Random {
  /** an integer in [0, n) */
  below(n: number): number;
  /** a uniformly shuffled copy */
  shuffled<T>(items: readonly T[]): T[];
}

/** mulberry32: 32 bits of state, plenty for tie-breaking and shuffling. */
export function seededRandom(seed: number = Math.floor(Math.random() * 2 ** 32)): Random {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
  const below = (n: number) => Math.floor(next() * n);
  return {
    below,
    shuffled(items) {
      const out = [...items];
      for (let i = out.length - 1; i > 0; i--) {
        const j = below(i + 1);
        [out[i], out[j]] = [out[j]!, out[i]!];
      }
      return out;
    },
  };
}
