// Walking a device's directories (see storage/README.md): objects/<partition>/<suffix>/<hash>/,
// containers|accounts/<partition>/<suffix>/<hash>/<hash>.db, async_pending/<suffix>/<file>.
// Anything that does not look like ours (a stray file, a partition that is not a number) is
// passed over, and a directory that vanishes mid-walk (a replicator removed it) is not an error.
import { readdir, rmdir } from 'node:fs/promises';
import { join } from 'node:path';

export async function listDir(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return [];
    throw err;
  }
}

/** Removes `dir` if it is empty; false when it is not (or is already gone). */
export async function removeIfEmpty(dir: string): Promise<boolean> {
  try {
    await rmdir(dir);
    return true;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOTEMPTY' || code === 'EEXIST' || code === 'ENOENT' || code === 'ENOTDIR') return false;
    throw err;
  }
}

export const isPartition = (name: string) => /^\d+$/.test(name);
export const isSuffix = (name: string) => /^[0-9a-f]{3}$/.test(name);
export const isHash = (name: string) => /^[0-9a-f]{32}$/.test(name);

/** The partition directories under <device>/<kind dir>, as numbers in ascending order. */
export async function partitions(kindDir: string): Promise<number[]> {
  return (await listDir(kindDir)).filter(isPartition).map(Number).sort((a, b) => a - b);
}

export interface HashDir {
  partition: number;
  suffix: string;
  hash: string;
  path: string;
}

/** Every <hash> directory of one partition directory. */
export async function* hashDirs(partitionDir: string, partition: number, suffixes?: readonly string[]): AsyncGenerator<HashDir> {
  for (const suffix of suffixes ?? (await listDir(partitionDir)).filter(isSuffix)) {
    const suffixDir = join(partitionDir, suffix);
    for (const hash of (await listDir(suffixDir)).filter(isHash)) yield { partition, suffix, hash, path: join(suffixDir, hash) };
  }
}

/** Every <hash> directory under <device>/<kind dir>, partition by partition. */
export async function* allHashDirs(kindDir: string): AsyncGenerator<HashDir> {
  for (const partition of await partitions(kindDir)) yield* hashDirs(join(kindDir, String(partition)), partition);
}

/** Removes the <hash>, <suffix> and <partition> directories above a removed file, as far as each is empty. */
export async function pruneEmpty(hashDir: string, stopAt: string): Promise<void> {
  let dir = hashDir;
  while (dir.startsWith(stopAt + '/') && dir !== stopAt) {
    if (!(await removeIfEmpty(dir))) return;
    dir = dir.slice(0, dir.lastIndexOf('/'));
  }
}
