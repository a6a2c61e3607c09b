// REPORT /<device>/<partition>[/<suffix>-<suffix>...]: a hash per suffix directory of what
// the partition holds (Swift's REPLICATE hashes), so two replicas compare a partition in
// one request and sync only the suffixes that differ. A suffix's hash is the MD5 of the
// sorted "<hash dir>/<file name>" lines of the files that decide each object's state (the
// same choice a read makes, so stray or obsolete files do not count). Empty suffixes are
// left out; with suffixes named, only those are hashed.
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { objectPartitionDir } from './layout.ts';
import { listDir } from './list-dir.ts';
import { chooseOnDiskState } from './object/ondisk.ts';

/** The state-deciding files under one suffix directory, as sorted "<hash>/<file>" lines. */
export async function suffixFiles(suffixDir: string): Promise<string[]> {
  const lines: string[] = [];
  for (const hash of await listDir(suffixDir)) {
    const state = chooseOnDiskState(await listDir(join(suffixDir, hash)));
    for (const file of [state.data, state.meta, state.tombstone]) if (file) lines.push(`${hash}/${file.name}`);
  }
  return lines.sort();
}

export async function suffixHashes(devicePath: string, partition: string, only?: string[]): Promise<Record<string, string>> {
  const partitionDir = objectPartitionDir(devicePath, partition);
  const suffixes = only ?? (await listDir(partitionDir)).filter((name) => /^[0-9a-f]{3}$/.test(name));
  const hashes: Record<string, string> = {};
  for (const suffix of [...new Set(suffixes)].sort()) {
    const lines = await suffixFiles(join(partitionDir, suffix));
    if (lines.length) hashes[suffix] = createHash('md5').update(lines.join('\n')).digest('hex');
  }
  return hashes;
}
