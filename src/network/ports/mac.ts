// MAC addresses of ports: generated from the configured base (Neutron's base_mac) or given by
// the caller. Uniqueness per network is the port table's (network_id, mac_address) constraint;
// createPort retries with a new random address when a generated one collides.
import { randomBytes } from 'node:crypto';

const MAC = /^([0-9a-f]{2})([:-][0-9a-f]{2}){5}$/i;

/** Whether text is a MAC address (aa:bb:cc:dd:ee:ff or with dashes). */
export function isMac(text: unknown): text is string {
  return typeof text === 'string' && MAC.test(text);
}

/** The canonical spelling Neutron shows: lower case, colon separated. */
export function normalizeMac(mac: string): string {
  return mac.toLowerCase().replace(/-/g, ':');
}

/** Multicast (group bit set) and all-zero addresses can't be a port's. */
export function isUnicastMac(mac: string): boolean {
  const octets = normalizeMac(mac).split(':').map((o) => parseInt(o, 16));
  return (octets[0]! & 1) === 0 && octets.some((o) => o !== 0);
}

/**
 * The octets kept from the base: the first three always (the OUI, as Neutron does), then
 * each further octet up to the first 00, so 'fa:16:3e:4f:00:00' keeps fa:16:3e:4f.
 */
export function macPrefix(baseMac: string): string[] {
  const octets = normalizeMac(isMac(baseMac) ? baseMac : 'fa:16:3e:00:00:00').split(':');
  const prefix = octets.slice(0, 3);
  for (const octet of octets.slice(3)) {
    if (octet === '00') break;
    prefix.push(octet);
  }
  return prefix;
}

/** A random MAC under the base's prefix. */
export function randomMac(baseMac: string): string {
  const prefix = macPrefix(baseMac);
  const rest = [...randomBytes(6 - prefix.length)].map((b) => b.toString(16).padStart(2, '0'));
  return [...prefix, ...rest].join(':');
}
