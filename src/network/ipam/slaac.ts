// SLAAC addresses: the modified EUI-64 interface identifier of a MAC (RFC 4291 appendix A)
// inside a /64 prefix, which is what a guest configures itself by router advertisements and
// what Neutron records for ports on slaac / dhcpv6-stateless subnets.
import { formatIp, type CidrLike } from './cidr.ts';

/** The modes under which addresses come from the MAC, not from the pools. */
export function isAutoAddressSubnet(subnet: { ip_version: number; ipv6_address_mode: string | null; ipv6_ra_mode: string | null }): boolean {
  if (subnet.ip_version !== 6) return false;
  const auto = ['slaac', 'dhcpv6-stateless'];
  if (subnet.ipv6_address_mode) return auto.includes(subnet.ipv6_address_mode);
  return subnet.ipv6_ra_mode !== null && auto.includes(subnet.ipv6_ra_mode);
}

/** Parses a MAC (colon or dash separated) into its 48-bit value; null when malformed. */
export function parseMac(mac: string): bigint | null {
  const m = /^([0-9a-f]{2})[:-]([0-9a-f]{2})[:-]([0-9a-f]{2})[:-]([0-9a-f]{2})[:-]([0-9a-f]{2})[:-]([0-9a-f]{2})$/i.exec(mac);
  if (!m) return null;
  return m.slice(1).reduce((v, h) => (v << 8n) | BigInt(parseInt(h, 16)), 0n);
}

/** The 64-bit interface identifier: the MAC split by ff:fe with the universal/local bit flipped. */
export function eui64InterfaceId(mac: string): bigint {
  const value = parseMac(mac);
  if (value === null) throw new Error(`invalid MAC address ${mac}`);
  const high = value >> 24n; // OUI
  const low = value & 0xffffffn;
  const id = (high << 40n) | (0xfffen << 24n) | low;
  return id ^ (0x02n << 56n);
}

/** The EUI-64 address of `mac` in the prefix (the prefix's network bits plus the interface id). */
export function eui64Address(prefix: CidrLike, mac: string): bigint {
  if (prefix.version !== 6) throw new Error('EUI-64 addresses are IPv6 only');
  const hostBits = 128 - prefix.prefixlen;
  const mask = hostBits >= 64 ? (1n << 64n) - 1n : (1n << BigInt(hostBits)) - 1n;
  return prefix.network | (eui64InterfaceId(mac) & mask);
}

export const eui64Text = (prefix: CidrLike, mac: string): string => formatIp(6, eui64Address(prefix, mac));
