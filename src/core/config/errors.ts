// The error an operator sees when the configuration is wrong. Programming mistakes (a bad
// schema, two schemas fighting over one option) throw a plain Error instead, so the two
// are never confused.

/** Where the bad setting came from, which section and option, and what was wrong. */
export class ConfigError extends Error {
  /** file path, environment variable name or 'override' */
  readonly origin?: string;
  readonly section?: string;
  readonly key?: string;

  constructor(message: string, details: { origin?: string; section?: string; key?: string } = {}) {
    super(message);
    this.name = 'ConfigError';
    this.origin = details.origin;
    this.section = details.section;
    this.key = details.key;
  }
}

/** " (did you mean 'x'?)" when one candidate is a likely typo of `word`, else ''. */
export function didYouMean(word: string, candidates: Iterable<string>): string {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    const d = distance(word.toLowerCase(), candidate.toLowerCase());
    if (d < bestDistance) [best, bestDistance] = [candidate, d];
  }
  const allowed = Math.max(1, Math.floor(word.length / 3));
  return best !== undefined && bestDistance <= allowed ? ` (did you mean '${best}'?)` : '';
}

/** Levenshtein edit distance. */
function distance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min(previous[j] + 1, current[j - 1] + 1, substitution));
    }
    previous = current;
  }
  return previous[b.length];
}
