// swift-ring-builder's compact device syntax: `r1z2-10.0.0.1:6200/sdb1_meta` to add a
// device, and search values such as `d3`, `z2`, `10.0.0.1`, `:6200`, `/sdb1` to pick them.
import { isIP } from 'node:net';
import { validDeviceName, type NewDevice } from './builder.ts';
import { address } from './ring-data.ts';
import type { RingDevice } from './types.ts';

/** The text is not in the syntax; the message quotes it. */
export class DeviceSyntaxError extends Error {
  override name = 'DeviceSyntaxError';
}

/** `[r<region>]z<zone>-<ip>:<port>/<device>[_<meta>]`; region undefined when not given. */
export function parseAddValue(text: string): Omit<NewDevice, 'weight'> {
  const m = /^(?:r(\d+))?z(\d+)-(\[[^\]]+\]|[^:/[\]]+):(\d+)\/([^_]*)(?:_(.*))?$/s.exec(text);
  if (!m) throw new DeviceSyntaxError(`Invalid add value: ${text} (expected [r<region>]z<zone>-<ip>:<port>/<device>[_<meta>])`);
  const [, region, zone, ip, port, device, meta] = m;
  if (Number(port) > 65535) throw new DeviceSyntaxError(`Invalid port ${port} in add value: ${text}`);
  if (!validDeviceName(device)) throw new DeviceSyntaxError(`Invalid device name '${device}' in add value: ${text}`);
  return {
    ...(region !== undefined ? { region: Number(region) } : {}),
    zone: Number(zone),
    ip: normalizeIp(ip!, text),
    port: Number(port),
    device: device!,
    meta: meta ?? '',
  };
}

export type DeviceSearch = Partial<Pick<RingDevice, 'id' | 'region' | 'zone' | 'ip' | 'port' | 'device' | 'meta'>>;

/**
 * `d<id>r<region>z<zone>-<ip>:<port>/<device>_<meta>`, every part optional but one needed:
 * `d74`, `z1`, `z1-10.0.0.1`, `10.0.0.1`, `:6200`, `/sdb1`, `_shiny`, `[::1]`.
 * The meta part matches devices whose meta contains it.
 */
export function parseSearchValue(text: string): DeviceSearch {
  const m = /^(?:d(\d+))?(?:r(\d+))?(?:z(\d+))?-?(\[[^\]]+\]|[\d.]+)?(?::(\d+))?(?:\/([^_]*))?(?:_(.*))?$/s.exec(text);
  if (!m || text === '' || text === '-') throw new DeviceSyntaxError(`Invalid <search-value>: '${text}'`);
  const [, id, region, zone, ip, port, device, meta] = m;
  const search: DeviceSearch = {};
  if (id !== undefined) search.id = Number(id);
  if (region !== undefined) search.region = Number(region);
  if (zone !== undefined) search.zone = Number(zone);
  if (ip !== undefined) search.ip = normalizeIp(ip, text);
  if (port !== undefined) search.port = Number(port);
  if (device !== undefined) search.device = device;
  if (meta !== undefined) search.meta = meta;
  return search;
}

export function matchesSearch(dev: RingDevice, search: DeviceSearch): boolean {
  for (const key of ['id', 'region', 'zone', 'ip', 'port', 'device'] as const) {
    if (search[key] !== undefined && dev[key] !== search[key]) return false;
  }
  return search.meta === undefined || (dev.meta ?? '').includes(search.meta);
}

/** `d3r1z2-10.0.0.1:6200/sdb1_"meta"`, as swift-ring-builder shows a device. */
export function formatDevice(dev: RingDevice): string {
  return `d${dev.id}r${dev.region}z${dev.zone}-${address(dev)}/${dev.device}_"${dev.meta ?? ''}"`;
}

/** An IPv4 or IPv6 address (brackets optional), IPv6 in its canonical compressed form. */
function normalizeIp(text: string, context: string): string {
  const bare = text.startsWith('[') && text.endsWith(']') ? text.slice(1, -1) : text;
  const family = isIP(bare);
  if (family === 4) return bare;
  // URL parsing writes IPv6 in one canonical (lowercase, compressed) form, so searches match.
  if (family === 6) return new URL(`http://[${bare}]/`).hostname.slice(1, -1);
  throw new DeviceSyntaxError(`Invalid ip ${text} in ${context}`);
}
