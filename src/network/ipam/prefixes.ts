// Prefix allocation from subnet pools: the lowest aligned block of a given length inside the
// pool's prefixes that overlaps none of the pool's subnets (Neutron's subnet_alloc).
import { bitsOf, containsCidr, firstOf, lastOf, overlaps, type CidrLike, type IpVersion } from './cidr.ts';

/** The lowest free block of `prefixlen` inside `prefixes`, avoiding `used`; null when none is left. */
export function allocatePrefix(version: IpVersion, prefixes: CidrLike[], used: CidrLike[], prefixlen: number): CidrLike | null {
  const size = 1n << BigInt(bitsOf(version) - prefixlen);
  const taken = used.filter((u) => u.version === version).sort((a, b) => (firstOf(a) < firstOf(b) ? -1 : 1));
  for (const prefix of [...prefixes].sort((a, b) => (firstOf(a) < firstOf(b) ? -1 : 1))) {
    if (prefix.prefixlen > prefixlen) continue;
    let at = firstOf(prefix);
    while (at + size - 1n <= lastOf(prefix)) {
      const candidate = { version, network: at, prefixlen };
      const clash = taken.find((t) => overlaps(t, candidate));
      if (!clash) return candidate;
      // jump past the clashing block, staying aligned
      const next = lastOf(clash) + 1n;
      at = next % size === 0n ? next : next + (size - (next % size));
      if (at <= firstOf(candidate)) at = firstOf(candidate) + size;
    }
  }
  return null;
}

/** True when `cidr` lies inside one of the pool's prefixes and overlaps none of `used`. */
export function prefixAvailable(prefixes: CidrLike[], used: CidrLike[], cidr: CidrLike): boolean {
  return prefixes.some((p) => containsCidr(p, cidr)) && !used.some((u) => overlaps(u, cidr));
}
