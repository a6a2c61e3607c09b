// Which of the ring's devices are this node's: Swift's whataremyips() and is_local_device(). A
// ring device is ours when its port is the port our storage server listens on, its address is
// one of this host's, and we serve a device of that name. Every worker starts from this list.
import { networkInterfaces } from 'node:os';
import { DeviceSet } from '../storage/devices.ts';
import type { Ring, RingDevice } from '../ring/types.ts';

/** The addresses this host answers on (every interface, loopback included). */
export function localAddresses(): Set<string> {
  const ips = new Set<string>(['127.0.0.1', '::1']);
  for (const list of Object.values(networkInterfaces())) {
    for (const entry of list ?? []) ips.add(entry.address.toLowerCase());
  }
  return ips;
}

/** The storage server the workers run beside: its devices and where it listens. */
export interface LocalNode {
  /** device directories, named by their last path component */
  devices: DeviceSet;
  /** the storage server's port (what the rings say about our devices) */
  port: number;
  /** this host's addresses; default localAddresses() */
  ips?: Set<string>;
}

export function isLocalDevice(node: LocalNode, dev: RingDevice): boolean {
  const ips = node.ips ?? localAddresses();
  return dev.port === node.port && ips.has(dev.ip.toLowerCase()) && node.devices.names.includes(dev.device);
}

/** Our devices that are in `ring` and mounted (a device directory that is gone is skipped, as Swift's mount_check does). */
export function localRingDevices(node: LocalNode, ring: Ring): Array<{ dev: RingDevice; path: string }> {
  const ips = node.ips ?? localAddresses();
  const out: Array<{ dev: RingDevice; path: string }> = [];
  const seen = new Set<string>();
  for (const dev of ring.devices) {
    if (!dev || seen.has(dev.device) || !isLocalDevice({ ...node, ips }, dev)) continue;
    const path = node.devices.path(dev.device);
    if (path === undefined) continue;
    seen.add(dev.device);
    out.push({ dev, path });
  }
  return out;
}

/** Whether `dev` is one of `nodes` (ring entries compare by id). */
export function includesDevice(nodes: readonly RingDevice[], dev: RingDevice): boolean {
  return nodes.some((n) => n.id === dev.id);
}
