// IPv4/IPv6 addresses and CIDRs as BigInt values: parsing (strict, as Neutron's validators),
// canonical text (dotted quad; RFC 5952 compressed lowercase IPv6, so uniqueness is by address
// and not by spelling), prefix arithmetic, containment and overlap.

export type IpVersion = 4 | 6;

export interface Ip {
  version: IpVersion;
  value: bigint;
}

export interface Cidr {
  version: IpVersion;
  /** the network address (host bits cleared) */
  network: bigint;
  prefixlen: number;
  /** true when the text had host bits set ("10.0.0.1/24") */
  hostBitsSet: boolean;
}

export const bitsOf = (version: IpVersion): number => (version === 4 ? 32 : 128);
const maxOf = (version: IpVersion): bigint => (1n << BigInt(bitsOf(version))) - 1n;

function parseV4(text: string): bigint | null {
  const parts = text.split('.');
  if (parts.length !== 4) return null;
  let value = 0n;
  for (const part of parts) {
    // no leading zeros: "010" is ambiguous (octal in inet_aton), Neutron rejects it too
    if (!/^(0|[1-9]\d{0,2})$/.test(part)) return null;
    const n = Number(part);
    if (n > 255) return null;
    value = (value << 8n) | BigInt(n);
  }
  return value;
}

/** Hex groups split by ':' with at most one '::'; `wanted` groups in all. */
function parseGroups(text: string, wanted: number): number[] | null {
  const halves = text.split('::');
  if (halves.length > 2) return null;
  const groupsOf = (s: string): number[] | null => {
    if (s === '') return [];
    const out: number[] = [];
    for (const g of s.split(':')) {
      if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return null;
      out.push(parseInt(g, 16));
    }
    return out;
  };
  if (halves.length === 2) {
    const left = groupsOf(halves[0]!);
    const right = groupsOf(halves[1]!);
    if (!left || !right) return null;
    const missing = wanted - left.length - right.length;
    if (missing < 1) return null;
    return [...left, ...new Array<number>(missing).fill(0), ...right];
  }
  const all = groupsOf(text);
  return all && all.length === wanted ? all : null;
}

function parseV6(text: string): bigint | null {
  let head = text;
  let tail: bigint | null = null;
  if (text.includes('.')) {
    // an embedded IPv4 address in the last 32 bits (::ffff:10.0.0.1)
    const at = text.lastIndexOf(':');
    tail = parseV4(text.slice(at + 1));
    if (tail === null) return null;
    head = text.slice(0, at + 1);
    if (!head.endsWith('::')) head = head.slice(0, -1);
  }
  if (!/^[0-9a-fA-F:]+$/.test(head)) return null;
  const groups = parseGroups(head, tail === null ? 8 : 6);
  if (!groups) return null;
  let value = 0n;
  for (const g of groups) value = (value << 16n) | BigInt(g);
  return tail === null ? value : (value << 32n) | tail;
}

/** Parses an address; null when it is not a valid IPv4 or IPv6 address. */
export function parseIp(text: unknown): Ip | null {
  if (typeof text !== 'string' || text.length === 0 || text.length > 64) return null;
  if (text.includes(':')) {
    const value = parseV6(text);
    return value === null ? null : { version: 6, value };
  }
  const value = parseV4(text);
  return value === null ? null : { version: 4, value };
}

/** Canonical text of an address: dotted quad, or RFC 5952 (lowercase, longest zero run as ::). */
export function formatIp(version: IpVersion, value: bigint): string {
  if (version === 4) {
    return [24n, 16n, 8n, 0n].map((s) => String((value >> s) & 255n)).join('.');
  }
  const groups: number[] = [];
  for (let i = 7; i >= 0; i--) groups.push(Number((value >> BigInt(i * 16)) & 0xffffn));
  // IPv4-mapped addresses keep their dotted tail, as netaddr and inet_ntop print them
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) {
    return `::ffff:${formatIp(4, value & 0xffffffffn)}`;
  }
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) { bestStart = i; bestLen = j - i; }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestLen < 2) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLen).join(':')}`;
}

/** The canonical text of an address, or null when it is not one. */
export function normalizeIp(text: unknown): string | null {
  const ip = parseIp(text);
  return ip ? formatIp(ip.version, ip.value) : null;
}

export const ipText = (ip: Ip): string => formatIp(ip.version, ip.value);

/** Parses "addr/len"; null when malformed (a bare address is not a CIDR). */
export function parseCidr(text: unknown): Cidr | null {
  if (typeof text !== 'string') return null;
  const slash = text.indexOf('/');
  if (slash < 0 || slash !== text.lastIndexOf('/')) return null;
  const ip = parseIp(text.slice(0, slash));
  const lenText = text.slice(slash + 1);
  if (!ip || !/^(0|[1-9]\d{0,2})$/.test(lenText)) return null;
  const prefixlen = Number(lenText);
  if (prefixlen > bitsOf(ip.version)) return null;
  const network = ip.value & netmask(ip.version, prefixlen);
  return { version: ip.version, network, prefixlen, hostBitsSet: network !== ip.value };
}

export function netmask(version: IpVersion, prefixlen: number): bigint {
  const host = BigInt(bitsOf(version) - prefixlen);
  return maxOf(version) ^ ((1n << host) - 1n);
}

export const cidrText = (c: Pick<Cidr, 'version' | 'network' | 'prefixlen'>): string => `${formatIp(c.version, c.network)}/${c.prefixlen}`;

/** The canonical text of a CIDR with host bits cleared, or null. */
export function normalizeCidr(text: unknown): string | null {
  const c = parseCidr(text);
  return c ? cidrText(c) : null;
}

export type CidrLike = Pick<Cidr, 'version' | 'network' | 'prefixlen'>;

export const firstOf = (c: CidrLike): bigint => c.network;
export const lastOf = (c: CidrLike): bigint => c.network + sizeOf(c) - 1n;
export const sizeOf = (c: CidrLike): bigint => 1n << BigInt(bitsOf(c.version) - c.prefixlen);

export function contains(c: CidrLike, ip: Ip): boolean {
  return ip.version === c.version && ip.value >= firstOf(c) && ip.value <= lastOf(c);
}

/** True when `inner` lies wholly inside `outer`. */
export function containsCidr(outer: CidrLike, inner: CidrLike): boolean {
  return outer.version === inner.version && outer.prefixlen <= inner.prefixlen && firstOf(inner) >= firstOf(outer) && lastOf(inner) <= lastOf(outer);
}

export function overlaps(a: CidrLike, b: CidrLike): boolean {
  return a.version === b.version && firstOf(a) <= lastOf(b) && firstOf(b) <= lastOf(a);
}

/** Compacts a set of CIDRs of one version into the fewest CIDRs covering exactly the same addresses. */
export function mergeCidrs(list: CidrLike[]): CidrLike[] {
  if (list.length === 0) return [];
  const version = list[0]!.version;
  // merge into ranges, then split each range into aligned blocks
  const ranges = list.map((c) => [firstOf(c), lastOf(c)] as [bigint, bigint]).sort((x, y) => (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0));
  const merged: [bigint, bigint][] = [];
  for (const r of ranges) {
    const top = merged[merged.length - 1];
    if (top && r[0] <= top[1] + 1n) top[1] = r[1] > top[1] ? r[1] : top[1];
    else merged.push([r[0], r[1]]);
  }
  return merged.flatMap(([start, end]) => rangeToCidrs(version, start, end));
}

/** The aligned CIDR blocks exactly covering [start, end]. */
export function rangeToCidrs(version: IpVersion, start: bigint, end: bigint): CidrLike[] {
  const out: CidrLike[] = [];
  const bits = bitsOf(version);
  let at = start;
  while (at <= end) {
    let len = bits;
    // grow the block while it stays aligned and inside the range
    while (len > 0) {
      const size = 1n << BigInt(bits - len + 1);
      if (at % size !== 0n || at + size - 1n > end) break;
      len--;
    }
    out.push({ version, network: at, prefixlen: len });
    at += 1n << BigInt(bits - len);
  }
  return out;
}
