// Rings for a cloud that has none yet (`tenrec up`, tests): one builder per kind with every
// device, rebalanced, and the three ring files. Rings already there are left as they are:
// they say where data lives, and the operator may have built them by hand.
import { existsSync } from 'node:fs';
import { RingBuilder } from './builder.ts';
import { builderFile, readBuilderFile, RING_KINDS, ringFile, RingFileError, writeBuilderFile, writeRingFile } from './file.ts';

export interface AllInOneDevice {
  ip: string;
  port: number;
  device: string;
  /** default: its own zone (1, 2, 3, ... in order), so replicas spread over the devices */
  zone?: number;
}

/** As the Swift all-in-one docs use: replicas that move are free to move again after an hour. */
const MIN_PART_HOURS = 1;

export function ensureRings(dir: string, devices: AllInOneDevice[], replicas: number, partPower = 10): void {
  for (const kind of RING_KINDS) {
    const ring = ringFile(dir, kind);
    if (existsSync(ring)) continue;
    const path = builderFile(dir, kind);
    let builder: RingBuilder;
    if (existsSync(path)) {
      // A builder without its ring: either a run that stopped between writing the two, or
      // one being built by hand. Finish the first; do not touch the second.
      builder = readBuilderFile(path);
      if (!builder.everRebalanced) {
        throw new RingFileError(`${path} exists but has never been rebalanced, so there is no ${ring}: finish it with 'tenrec object-store ring ${kind} rebalance' or remove it`);
      }
    } else {
      if (devices.length < replicas) throw new RingFileError(`${replicas} replicas need at least ${replicas} devices; ${devices.length} given for ${ring}`);
      builder = new RingBuilder(partPower, replicas, MIN_PART_HOURS);
      devices.forEach((d, i) => builder.addDevice({ region: 1, zone: d.zone ?? i + 1, ip: d.ip, port: d.port, device: d.device, weight: 1 }));
      builder.rebalance();
      // The builder first: should the ring not follow, the next start writes it from this builder.
      writeBuilderFile(path, builder);
    }
    writeRingFile(ring, builder.toRingData());
  }
}
