// "Is this client address inside this network?" for temp_url_ip_range, with Python's
// ipaddress rules: a network is an address with an optional prefix length, and one with host
// bits set ("1.2.3.4/24") is not a network at all.
import { isIPv4, isIPv6 } from 'node:net';

interface Address {
  bits: 32 | 128;
  value: bigint;
}

function parseAddress(text: string): Address | undefined {
  if (isIPv4(text)) {
    return { bits: 32, value: text.split('.').reduce((acc, octet) => (acc << 8n) | BigInt(Number(octet)), 0n) };
  }
  if (!isIPv6(text) || text.includes('%')) return undefined;
  let hex = text;
  const v4Tail = /^(.*:)(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4Tail) {
    // an IPv4 tail (::ffff:1.2.3.4) stands for the last two groups
    const v4 = parseAddress(v4Tail[2]!)!.value;
    hex = `${v4Tail[1]}${(v4 >> 16n).toString(16)}:${(v4 & 0xffffn).toString(16)}`;
  }
  const halves = hex.split('::');
  const left = halves[0] ? halves[0].split(':') : [];
  const right = halves.length > 1 && halves[1] ? halves[1].split(':') : [];
  const zeros = halves.length > 1 ? 8 - left.length - right.length : 0;
  const groups = [...left, ...Array<string>(zeros).fill('0'), ...right];
  if (groups.length !== 8) return undefined;
  return { bits: 128, value: groups.reduce((acc, g) => (acc << 16n) | BigInt(parseInt(g, 16)), 0n) };
}

/** A client address as Node reports it, IPv4-mapped IPv6 taken as the IPv4 address it maps. */
function clientAddress(text: string): Address | undefined {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(text);
  return parseAddress(mapped ? mapped[1]! : text);
}

/** undefined when `range` is not a valid network (or the address not an address); else whether it holds `address`. */
export function inIpRange(range: string, address: string): boolean | undefined {
  const slash = range.indexOf('/');
  const net = parseAddress(slash < 0 ? range : range.slice(0, slash));
  if (!net) return undefined;
  let prefix = net.bits as number;
  if (slash >= 0) {
    const text = range.slice(slash + 1);
    if (!/^\d{1,3}$/.test(text) || Number(text) > net.bits) return undefined;
    prefix = Number(text);
  }
  const hostBits = BigInt(net.bits - prefix);
  const hostMask = (1n << hostBits) - 1n;
  if ((net.value & hostMask) !== 0n) return undefined;
  const client = clientAddress(address);
  if (!client) return undefined;
  if (client.bits !== net.bits) return false;
  return client.value >> hostBits === net.value >> hostBits;
}
