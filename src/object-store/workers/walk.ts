// Walking a device's directories (see storage/README.md): objects/<partition>/<suffix>/<hash>/,
// containers|accounts/<partition>/<suffix>/<hash>/<hash>.db, async_pending/<suffix>/<file>.
// Anything that does not look like ours (a stray file, a partition that is not a number) is
// passed over, and a directory or file that vanishes mid-walk (a replicator removed it) is
// not an error.
import { rmdir, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { listDir } from '../storage/list-dir.ts';

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

/** Removes a file; one already gone is fine. */
export async function unlinkQuietly(path: string): Promise<void> {
  await unlink(path).catch((err: NodeJS.ErrnoException) => {
    if (err.code !== 'ENOENT') throw err;
  });
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

export interface DbFile extends HashDir {
  /** <path>/<hash>.db */
  file: string;
}

/** Every account or container database under <device>/<kind dir>: the <hash> directories holding a <hash>.db. */
export async function* databases(kindDir: string): AsyncGenerator<DbFile> {
  for await (const dir of allHashDirs(kindDir)) {
    const name = `${dir.hash}.db`;
    if ((await listDir(dir.path)).includes(name)) yield { ...dir, file: join(dir.path, name) };
  }
}

/** Removes the <hash>, <suffix> and <partition> directories above a removed file, as far as each is empty. */
export async function pruneEmpty(hashDir: string, stopAt: string): Promise<void> {
  let dir = hashDir;
  while (dir.startsWith(stopAt + '/') && dir !== stopAt) {
    if (!(await removeIfEmpty(dir))) return;
    dir = dir.slice(0, dir.lastIndexOf('/'));
  }
}
