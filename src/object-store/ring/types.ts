// The ring as the rest of the object store sees it: which devices hold a partition, and
// where to go when they are down. Pure data; ring files are loaded and re-loaded by ring/file.ts.
export interface RingDevice {
  /** index in Ring.devices, stable across rebalances */
  id: number;
  region: number;
  zone: number;
  weight: number;
  /** where the storage server holding the device listens */
  ip: string;
  port: number;
  /** the device's name on that server (a directory under its --devices) */
  device: string;
  meta?: string;
}

export type RingKind = 'account' | 'container' | 'object';

export interface Ring {
  readonly partPower: number;
  readonly replicaCount: number;
  /** indexed by device id; null where a device was removed */
  readonly devices: readonly (RingDevice | null)[];
  /** the partition a path hashes to and its primary devices, one per replica */
  getNodes(account: string, container?: string, object?: string): { partition: number; nodes: RingDevice[] };
  getPartNodes(partition: number): RingDevice[];
  /** handoff devices for a partition, after the primaries: other regions and zones first */
  getMoreNodes(partition: number): Iterable<RingDevice>;
}
