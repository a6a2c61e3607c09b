// A file that fails its checks (unreadable metadata, size not what the metadata says) is moved
// aside to <device>/quarantined/<objects|containers|accounts>/<hash>/ so it is never served
// again and the replicator restores a good copy from another node, as Swift does.
import { mkdir, rename } from 'node:fs/promises';
import { basename, join } from 'node:path';

export const QUARANTINE_DIR = 'quarantined';

export async function quarantineFile(devicePath: string, kind: 'objects' | 'containers' | 'accounts', hash: string, file: string): Promise<string> {
  const dir = join(devicePath, QUARANTINE_DIR, kind, hash);
  await mkdir(dir, { recursive: true });
  const target = join(dir, basename(file));
  await rename(file, target);
  return target;
}
