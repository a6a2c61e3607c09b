// A directory's entries, where a missing directory (or a file where one was expected) simply
// has none: objects, suffixes and partitions come and go under concurrent writers and the
// replicator, and an absent one is an empty one.
import { readdir } from 'node:fs/promises';

export async function listDir(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return [];
    throw err;
  }
}
