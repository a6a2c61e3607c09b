/**
 * Generates an empty qcow2 (version 3) image without qemu-img, so `tenrec up` can upload
 * a starter image on a machine with no QEMU tools. Layout follows QEMU's
 * docs/interop/qcow2.txt; every field is big-endian and every table cluster-aligned:
 *
 *   cluster 0        header (104 bytes, no extensions: the zeros after it end the list)
 *   cluster 1        refcount table: one entry, pointing at cluster 2
 *   cluster 2        refcount block: 16-bit refcounts, 1 for each metadata cluster
 *   cluster 3...     L1 table, all zero (no L2 table, no data cluster: every guest read is zero)
 *
 * A 1 GiB image is 4 clusters, 256 KiB; `qemu-img check` finds no error or leak in it.
 */

export const QCOW2_CLUSTER_BITS = 16;
export const QCOW2_CLUSTER_SIZE = 1 << QCOW2_CLUSTER_BITS;

const HEADER_LENGTH = 104; // the version 3 fields, no compression type byte (all QEMU versions read it)
const REFCOUNT_ORDER = 4; // 16-bit refcounts, QEMU's default
/** Each L2 table (one cluster of 8-byte entries) maps this many guest bytes. */
const BYTES_PER_L2 = (QCOW2_CLUSTER_SIZE / 8) * QCOW2_CLUSTER_SIZE;
/** QEMU refuses L1 tables above 32 MiB (QCOW_MAX_L1_SIZE): 4 Mi entries, 2 PiB of guest disk. */
const MAX_L1_ENTRIES = (32 * 1024 * 1024) / 8;

const REFCOUNT_TABLE_CLUSTER = 1;
const REFCOUNT_BLOCK_CLUSTER = 2;
const L1_CLUSTER = 3;

export function makeQcow2(virtualSizeBytes: number): Buffer {
  if (!Number.isSafeInteger(virtualSizeBytes) || virtualSizeBytes <= 0 || virtualSizeBytes % 512 !== 0) {
    throw new RangeError('qcow2 virtual size must be a positive multiple of 512 bytes');
  }
  const l1Entries = Math.ceil(virtualSizeBytes / BYTES_PER_L2);
  if (l1Entries > MAX_L1_ENTRIES) throw new RangeError('qcow2 virtual size too large (at most 2 PiB)');
  const l1Clusters = Math.ceil((l1Entries * 8) / QCOW2_CLUSTER_SIZE);
  const clusters = L1_CLUSTER + l1Clusters; // at most 515: one refcount block (32768 entries) covers them all

  const image = Buffer.alloc(clusters * QCOW2_CLUSTER_SIZE);
  const at = (cluster: number) => cluster * QCOW2_CLUSTER_SIZE;

  image.write('QFI\xfb', 0, 'latin1');
  image.writeUInt32BE(3, 4); // version
  image.writeBigUInt64BE(0n, 8); // backing_file_offset: none
  image.writeUInt32BE(0, 16); // backing_file_size
  image.writeUInt32BE(QCOW2_CLUSTER_BITS, 20);
  image.writeBigUInt64BE(BigInt(virtualSizeBytes), 24);
  image.writeUInt32BE(0, 32); // crypt_method: none
  image.writeUInt32BE(l1Entries, 36);
  image.writeBigUInt64BE(BigInt(at(L1_CLUSTER)), 40);
  image.writeBigUInt64BE(BigInt(at(REFCOUNT_TABLE_CLUSTER)), 48);
  image.writeUInt32BE(1, 56); // refcount_table_clusters
  image.writeUInt32BE(0, 60); // nb_snapshots
  image.writeBigUInt64BE(0n, 64); // snapshots_offset
  image.writeBigUInt64BE(0n, 72); // incompatible features: none (in particular not dirty)
  image.writeBigUInt64BE(0n, 80); // compatible features
  image.writeBigUInt64BE(0n, 88); // autoclear features
  image.writeUInt32BE(REFCOUNT_ORDER, 96);
  image.writeUInt32BE(HEADER_LENGTH, 100);

  image.writeBigUInt64BE(BigInt(at(REFCOUNT_BLOCK_CLUSTER)), at(REFCOUNT_TABLE_CLUSTER));
  for (let cluster = 0; cluster < clusters; cluster++) {
    image.writeUInt16BE(1, at(REFCOUNT_BLOCK_CLUSTER) + cluster * 2);
  }
  return image;
}
