// The additional checksums S3 clients send with uploads (x-amz-checksum-<algorithm>, in a
// header or an aws-chunked trailer): base64 of the big-endian digest of the payload.
import { createHash } from 'node:crypto';
import { crc32 } from 'node:zlib';
import { s3Error } from './errors.ts';

export interface Checksum {
  /** e.g. crc32, as x-amz-sdk-checksum-algorithm names it (case aside) */
  readonly algorithm: string;
  /** digest size in bytes */
  readonly size: number;
  update(data: Buffer): void;
  digest(): Buffer;
}

class Crc32 implements Checksum {
  readonly algorithm = 'crc32';
  readonly size = 4;
  private value = 0;
  update(data: Buffer): void {
    this.value = crc32(data, this.value);
  }
  digest(): Buffer {
    const out = Buffer.alloc(4);
    out.writeUInt32BE(this.value >>> 0);
    return out;
  }
}

/** CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), which zlib does not offer. */
const CRC32C_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0x82f63b78 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

class Crc32c implements Checksum {
  readonly algorithm = 'crc32c';
  readonly size = 4;
  private value = 0xffffffff;
  update(data: Buffer): void {
    let c = this.value;
    for (let i = 0; i < data.length; i++) c = CRC32C_TABLE[(c ^ data[i]!) & 0xff]! ^ (c >>> 8);
    this.value = c >>> 0;
  }
  digest(): Buffer {
    const out = Buffer.alloc(4);
    out.writeUInt32BE((this.value ^ 0xffffffff) >>> 0);
    return out;
  }
}

class HashChecksum implements Checksum {
  private readonly hash;
  constructor(readonly algorithm: 'sha1' | 'sha256', readonly size: number) {
    this.hash = createHash(algorithm);
  }
  update(data: Buffer): void {
    this.hash.update(data);
  }
  digest(): Buffer {
    return this.hash.digest();
  }
}

const ALGORITHMS: Record<string, () => Checksum> = {
  'x-amz-checksum-crc32': () => new Crc32(),
  'x-amz-checksum-crc32c': () => new Crc32c(),
  'x-amz-checksum-sha1': () => new HashChecksum('sha1', 20),
  'x-amz-checksum-sha256': () => new HashChecksum('sha256', 32),
};
const KNOWN_BUT_UNSUPPORTED = new Set(['x-amz-checksum-crc64nvme']);

/** The x-amz-checksum-<algorithm> headers among `headers` (-algorithm and -type only say how to check). */
export function checksumHeaderNames(headers: Record<string, string>): string[] {
  return Object.keys(headers).filter((h) => h.startsWith('x-amz-checksum-') && h !== 'x-amz-checksum-algorithm' && h !== 'x-amz-checksum-type');
}

export function isChecksumHeader(name: string): boolean {
  return name in ALGORITHMS || KNOWN_BUT_UNSUPPORTED.has(name);
}

/** A fresh checksum for the header (or trailer) name; 501 for an algorithm we do not compute. */
export function checksumFor(name: string): Checksum {
  const make = ALGORITHMS[name];
  if (!make) throw s3Error('NotImplemented', {}, `The ${name} algorithm is not supported.`);
  return make();
}

/** The digest a header value claims, or undefined when it is not base64 of the right size. */
export function decodeChecksumValue(checksum: Checksum, value: string | undefined): Buffer | undefined {
  if (!value || !/^[A-Za-z0-9+/]+={0,2}$/.test(value) || value.length % 4 !== 0) return undefined;
  const raw = Buffer.from(value, 'base64');
  return raw.length === checksum.size ? raw : undefined;
}
