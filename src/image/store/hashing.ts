// The digests Glance records for image data: the legacy md5 `checksum` and the "multihash"
// os_hash_algo/os_hash_value (sha512 unless the operator chose another algorithm), both
// over exactly the bytes stored, computed in one pass as the data flows to the backend
// (on worker threads for all but small images).
import { createHash, getHashes } from 'node:crypto';
import { StoreError } from './errors.ts';
import { BLOCK_SIZE, WorkerDigests } from './hash-workers.ts';

export const DEFAULT_HASH_ALGO = 'sha512';

export interface ImageDigest {
  size: number;
  checksum: string;
  osHashAlgo: string;
  osHashValue: string;
}

/**
 * Both digests of one upload. The first BLOCK_SIZE bytes are only kept: an image that small
 * is hashed here at the end. A larger one is hashed on the worker threads (hash-workers.ts),
 * starting with those kept bytes.
 */
export class ImageHasher {
  readonly algorithm: string;
  private count = 0;
  private kept: Buffer[] = [];
  private workers: WorkerDigests | null = null;

  constructor(algorithm: string = DEFAULT_HASH_ALGO) {
    // Checked up front: an unknown name is a configuration fault, not a failed upload.
    if (!getHashes().includes(algorithm)) throw new StoreError(`unsupported hashing algorithm ${JSON.stringify(algorithm)}`);
    this.algorithm = algorithm;
  }

  /** Takes the chunk (the caller may reuse it once this returns or its promise resolves); a promise means: wait, the workers are behind. */
  update(chunk: Uint8Array): Promise<void> | void {
    this.count += chunk.byteLength;
    if (this.workers) return this.workers.write(chunk);
    this.kept.push(Buffer.from(chunk)); // a copy: sources may reuse their buffers
    if (this.count <= BLOCK_SIZE) return;
    this.workers = new WorkerDigests(['md5', this.algorithm]);
    const kept = this.kept;
    this.kept = [];
    return this.workers.write(Buffer.concat(kept));
  }

  get bytes(): number {
    return this.count;
  }

  /** Finishes both hashes; call once. */
  async digest(): Promise<ImageDigest> {
    let md5: string;
    let osHash: string;
    if (this.workers) {
      [md5, osHash] = await this.workers.finish();
    } else {
      const md5Hash = createHash('md5');
      const osHashHash = createHash(this.algorithm);
      for (const chunk of this.kept) {
        md5Hash.update(chunk);
        osHashHash.update(chunk);
      }
      [md5, osHash] = [md5Hash.digest('hex'), osHashHash.digest('hex')];
    }
    return { size: this.count, checksum: md5!, osHashAlgo: this.algorithm, osHashValue: osHash! };
  }

  /** The upload failed: the workers forget its digests. */
  abandon(): void {
    this.workers?.drop();
  }
}
