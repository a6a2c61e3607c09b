// The little address arithmetic the L3 rules need: is an address in a CIDR, do two CIDRs
// overlap, is a text a valid address or CIDR. IPv4 and IPv6, as bigints.

export interface ParsedAddress {
  version: 4 | 6;
  value: bigint;
}

function parseV4(text: string): bigint | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  let value = 0n;
  for (const part of parts) {
    if (!/^\d{1,3}$/.test(part) || Number(part) > 255) return undefined;
    value = (value << 8n) | BigInt(Number(part));
  }
  return value;
}

function parseV6(text: string): bigint | undefined {
  if (!/^[0-9a-fA-F:.]+$/.test(text)) return undefined;
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const groups = (half: string): string[] | undefined => (half === '' ? [] : half.split(':'));
  const head = groups(halves[0]!);
  const tail = halves.length === 2 ? groups(halves[1]!) : [];
  if (!head || !tail) return undefined;
  // an embedded IPv4 address at the end counts as two groups
  const words: number[] = [];
  const toWords = (list: string[], last: boolean): number[] | undefined => {
    const out: number[] = [];
    for (let i = 0; i < list.length; i++) {
      const g = list[i]!;
      if (last && i === list.length - 1 && g.includes('.')) {
        const v4 = parseV4(g);
        if (v4 === undefined) return undefined;
        out.push(Number(v4 >> 16n), Number(v4 & 0xffffn));
      } else {
        if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return undefined;
        out.push(parseInt(g, 16));
      }
    }
    return out;
  };
  const headWords = toWords(head, halves.length === 1);
  const tailWords = toWords(tail, true);
  if (!headWords || !tailWords) return undefined;
  if (halves.length === 1) {
    if (headWords.length !== 8) return undefined;
    words.push(...headWords);
  } else {
    const fill = 8 - headWords.length - tailWords.length;
    if (fill < 1) return undefined;
    words.push(...headWords, ...new Array<number>(fill).fill(0), ...tailWords);
  }
  return words.reduce((acc, w) => (acc << 16n) | BigInt(w), 0n);
}

export function parseAddress(text: unknown): ParsedAddress | undefined {
  if (typeof text !== 'string') return undefined;
  const v4 = parseV4(text);
  if (v4 !== undefined) return { version: 4, value: v4 };
  const v6 = text.includes(':') ? parseV6(text) : undefined;
  return v6 === undefined ? undefined : { version: 6, value: v6 };
}

export interface ParsedCidr {
  version: 4 | 6;
  /** the network address (host bits cleared) */
  network: bigint;
  prefix: number;
}

export function parseCidr(text: unknown): ParsedCidr | undefined {
  if (typeof text !== 'string') return undefined;
  const [addr, len, ...rest] = text.split('/');
  if (rest.length || len === undefined || !/^\d{1,3}$/.test(len)) return undefined;
  const parsed = parseAddress(addr);
  if (!parsed) return undefined;
  const bits = parsed.version === 4 ? 32 : 128;
  const prefix = Number(len);
  if (prefix > bits) return undefined;
  const host = (1n << BigInt(bits - prefix)) - 1n;
  return { version: parsed.version, network: parsed.value & ~host, prefix };
}

const size = (c: ParsedCidr) => 1n << BigInt((c.version === 4 ? 32 : 128) - c.prefix);

export function cidrContains(cidr: string, address: string): boolean {
  const c = parseCidr(cidr);
  const a = parseAddress(address);
  if (!c || !a || c.version !== a.version) return false;
  return a.value >= c.network && a.value < c.network + size(c);
}

export function cidrsOverlap(a: string, b: string): boolean {
  const x = parseCidr(a);
  const y = parseCidr(b);
  if (!x || !y || x.version !== y.version) return false;
  return x.network < y.network + size(y) && y.network < x.network + size(x);
}

/** Two spellings of one address compare equal (IPv6 has many). */
export function sameAddress(a: string, b: string): boolean {
  const x = parseAddress(a);
  const y = parseAddress(b);
  return !!x && !!y && x.version === y.version && x.value === y.value;
}
