/**
 * Recognises a disk image format from its first bytes, as Glance's format inspector does,
 * so the store can record what was really uploaded and the API can fill `virtual_size`
 * (and refuse a qcow2 uploaded as "raw").
 *
 * Only headers are read, never the whole image: the store hands us the first
 * INSPECT_BYTES of a stream as it passes. Every size is taken from untrusted bytes, so a
 * value that is not a safe integer gives `virtualSize: null` rather than a wrong number.
 *
 * `raw` has no signature: this never answers 'raw'. When the API's disk_format is raw,
 * virtual_size is the image size; that rule lives in the API, not here.
 */

export type DiskFormat = 'qcow2' | 'vmdk' | 'vhd' | 'vhdx' | 'iso' | 'raw';

export interface InspectResult {
  format: DiskFormat | null;
  virtualSize: number | null;
}

/** Enough for every signature we know: the ISO volume descriptor ends at 0x8800. */
export const INSPECT_BYTES = 64 * 1024;

const SECTOR = 512;

/** The first signature that matches wins; the order puts the cheap offset-0 magics first. */
export function inspectHeader(firstBytes: Buffer): InspectResult {
  for (const probe of PROBES) {
    const found = probe(firstBytes);
    if (found) return found;
  }
  return { format: null, virtualSize: null };
}

const PROBES: ReadonlyArray<(buf: Buffer) => InspectResult | null> = [qcow2, vmdkSparse, vmdkDescriptor, vhd, vhdx, iso];

/** A u64 from an untrusted header, or null when JavaScript cannot hold it exactly. */
function safe(value: bigint): number | null {
  return value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : null;
}

const startsWith = (buf: Buffer, magic: string, at = 0) =>
  buf.length >= at + magic.length && buf.toString('latin1', at, at + magic.length) === magic;

/** docs/interop/qcow2.txt: "QFI\xfb", version (2 or 3) at 4, virtual size in bytes at 24, all big-endian. */
function qcow2(buf: Buffer): InspectResult | null {
  if (buf.length < 32 || !startsWith(buf, 'QFI\xfb')) return null;
  const version = buf.readUInt32BE(4);
  if (version !== 2 && version !== 3) return null; // version 1 is the old qcow format
  return { format: 'qcow2', virtualSize: safe(buf.readBigUInt64BE(24)) };
}

/** VMware's sparse extent header (monolithicSparse, streamOptimized): "KDMV", capacity in sectors at 12, little-endian. */
function vmdkSparse(buf: Buffer): InspectResult | null {
  if (buf.length < 20 || !startsWith(buf, 'KDMV')) return null;
  return { format: 'vmdk', virtualSize: safe(buf.readBigUInt64LE(12) * BigInt(SECTOR)) };
}

/**
 * A text descriptor (monolithicFlat, twoGbMaxExtent...): the size is the sum of the extent
 * lines, e.g. `RW 2097152 FLAT "disk-flat.vmdk" 0`.
 */
function vmdkDescriptor(buf: Buffer): InspectResult | null {
  if (!startsWith(buf, '# Disk DescriptorFile')) return null;
  const text = buf.toString('latin1', 0, Math.min(buf.length, 16 * 1024));
  let sectors = 0;
  for (const m of text.matchAll(/^\s*(?:RW|RDONLY|NOACCESS)\s+(\d+)\s+\w+/gm)) sectors += Number(m[1]);
  const bytes = sectors * SECTOR;
  return { format: 'vmdk', virtualSize: sectors > 0 && Number.isSafeInteger(bytes) ? bytes : null };
}

/**
 * The VHD footer is the LAST 512 bytes of the file; dynamic and differencing disks also
 * keep a copy at offset 0, which is the only place a header inspection can see it (a fixed
 * VHD therefore looks raw, as it does to qemu's probe). "Current size" is at 48, big-endian.
 */
function vhd(buf: Buffer): InspectResult | null {
  if (buf.length < 56 || !startsWith(buf, 'conectix')) return null;
  return { format: 'vhd', virtualSize: safe(buf.readBigUInt64BE(48)) };
}

/** VHDX keeps its size in the metadata region, found through the region table: not read here. */
function vhdx(buf: Buffer): InspectResult | null {
  return startsWith(buf, 'vhdxfile') ? { format: 'vhdx', virtualSize: null } : null;
}

/**
 * ISO 9660: volume descriptors start at sector 16 (0x8000); each is a type byte then
 * "CD001". The primary one (type 1) holds the volume space size (blocks, at +80) and the
 * logical block size (at +128), both stored little-endian then big-endian.
 */
function iso(buf: Buffer): InspectResult | null {
  const start = 0x8000;
  if (!startsWith(buf, 'CD001', start + 1)) return null;
  for (let at = start; at + 2048 <= buf.length; at += 2048) {
    if (!startsWith(buf, 'CD001', at + 1)) break;
    const type = buf[at]!;
    if (type === 255) break; // volume descriptor set terminator
    if (type === 1) {
      const blocks = buf.readUInt32LE(at + 80);
      const blockSize = buf.readUInt16LE(at + 128);
      return { format: 'iso', virtualSize: blocks > 0 && blockSize > 0 ? blocks * blockSize : null };
    }
  }
  return { format: 'iso', virtualSize: null };
}
