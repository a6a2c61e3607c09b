// Where a path lives: Swift's hash_path and the partition its digest falls in. The secrets
// are mixed in so users cannot aim many names at one partition; every host must use the
// same ones, and changing them once data is stored loses track of all of it.
import { createHash } from 'node:crypto';

/** swift.conf's swift_hash_path_prefix / swift_hash_path_suffix. */
export interface HashSecrets {
  prefix: string;
  suffix: string;
}

export interface PathHash {
  /** lowercase hex, as it appears in on-disk names */
  hex: string;
  /** the 16 raw bytes of the MD5 */
  digest: Buffer;
}

/**
 * md5(prefix + '/' + account[/container[/object]] + suffix) over UTF-8, like Swift's hash_path.
 * An empty container or object counts as absent, as in Swift.
 */
export function hashPath(account: string, container: string | undefined, object: string | undefined, secrets: HashSecrets): PathHash {
  if (object && !container) throw new TypeError('hashPath: an object needs a container');
  let path = `${secrets.prefix}/${account}`;
  if (container) path += `/${container}`;
  if (object) path += `/${object}`;
  const digest = createHash('md5').update(path + secrets.suffix, 'utf8').digest();
  return { hex: digest.toString('hex'), digest };
}

/** The top `partPower` bits of the digest's first four bytes (big-endian). */
export function partitionOf(digest: Uint8Array, partPower: number): number {
  if (!Number.isInteger(partPower) || partPower < 0 || partPower > 32) throw new RangeError(`partPower must be 0..32, got ${partPower}`);
  if (digest.length < 4) throw new RangeError('partitionOf: digest shorter than 4 bytes');
  // JavaScript shifts by (n mod 32), so a 0-bit ring must be special-cased.
  if (partPower === 0) return 0;
  const top = ((digest[0]! << 24) | (digest[1]! << 16) | (digest[2]! << 8) | digest[3]!) >>> 0;
  return top >>> (32 - partPower);
}
