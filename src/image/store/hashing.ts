// The digests Glance records for image data: the legacy md5 `checksum` and the "multihash"
// os_hash_algo/os_hash_value (sha512 unless the operator chose another algorithm), both
// over exactly the bytes stored, computed in one pass as the data flows to the backend.
import { createHash, getHashes, type Hash } from 'node:crypto';
import { StoreError } from './errors.ts';

export const DEFAULT_HASH_ALGO = 'sha512';

export interface ImageDigest {
  size: number;
  checksum: string;
  osHashAlgo: string;
  osHashValue: string;
}

export class ImageHasher {
  readonly algorithm: string;
  private readonly md5: Hash = createHash('md5');
  private readonly osHash: Hash;
  private count = 0;

  constructor(algorithm: string = DEFAULT_HASH_ALGO) {
    // Checked up front: an unknown name is a configuration fault, not a failed upload.
    if (!getHashes().includes(algorithm)) throw new StoreError(`unsupported hashing algorithm ${JSON.stringify(algorithm)}`);
    this.algorithm = algorithm;
    this.osHash = createHash(algorithm);
  }

  update(chunk: Uint8Array): void {
    this.md5.update(chunk);
    this.osHash.update(chunk);
    this.count += chunk.byteLength;
  }

  get bytes(): number {
    return this.count;
  }

  /** Finishes both hashes; call once. */
  digest(): ImageDigest {
    return {
      size: this.count,
      checksum: this.md5.digest('hex'),
      osHashAlgo: this.algorithm,
      osHashValue: this.osHash.digest('hex'),
    };
  }
}
