// Where things live on a device (see README.md, "On-disk layout"). The replicator, auditor,
// updater and expirer walk these same directories, so every path is built here.
import { join } from 'node:path';
import { hashPath, type HashSecrets } from '../ring/hash.ts';

export const OBJECTS_DIR = 'objects';
export const CONTAINERS_DIR = 'containers';
export const ACCOUNTS_DIR = 'accounts';
export const ASYNC_PENDING_DIR = 'async_pending';
export const TMP_DIR = 'tmp';

export type DbKind = 'account' | 'container';

/** The last three hex digits of a hash: the directory that groups hashes within a partition. */
export function hashSuffix(hash: string): string {
  return hash.slice(-3);
}

/** <device>/objects/<partition>/<suffix>/<hash> */
export function objectHashDir(devicePath: string, partition: string | number, hash: string): string {
  return join(devicePath, OBJECTS_DIR, String(partition), hashSuffix(hash), hash);
}

export function objectPartitionDir(devicePath: string, partition: string | number): string {
  return join(devicePath, OBJECTS_DIR, String(partition));
}

/** <device>/containers|accounts/<partition>/<suffix>/<hash>/<hash>.db */
export function dbPath(devicePath: string, kind: DbKind, partition: string | number, hash: string): string {
  return join(devicePath, kind === 'account' ? ACCOUNTS_DIR : CONTAINERS_DIR, String(partition), hashSuffix(hash), hash, `${hash}.db`);
}

export function tmpDir(devicePath: string): string {
  return join(devicePath, TMP_DIR);
}

/** <device>/async_pending/<suffix>/<hash>-<timestamp> */
export function asyncPendingPath(devicePath: string, hash: string, timestamp: string): string {
  return join(devicePath, ASYNC_PENDING_DIR, hashSuffix(hash), `${hash}-${timestamp}`);
}

/** Path hashing with this cluster's secrets. */
export class PathHasher {
  constructor(private readonly secrets: HashSecrets) {}

  hash(account: string, container?: string, object?: string): string {
    return hashPath(account, container, object, this.secrets).hex;
  }
}
