// Housekeeping of an object's hash directory before the replicator hashes it (Swift does it in
// hash_cleanup_listdir): files made obsolete by newer ones go, and so does a tombstone older
// than reclaim_age — by then every replica has had a week to learn of the delete, and keeping
// it forever would cost an inode per deleted object. Orphan .meta files (their .data gone, by
// quarantine say) go at the same age. Only the names listed are removed: a write landing
// meanwhile brings a new name and stays.
import { join } from 'node:path';
import { listDir } from '../storage/list-dir.ts';
import { chooseOnDiskState, parseObjectFileName } from '../storage/object/ondisk.ts';
import { pruneEmpty, unlinkQuietly, type HashDir } from './walk.ts';

export const DEFAULT_RECLAIM_AGE_SECONDS = 7 * 86_400;

/** Cleans one hash directory; true when it is gone afterwards (nothing of the object left). */
export async function reclaimHashDir(dir: HashDir, objectsDir: string, nowSeconds: number, reclaimAgeSeconds: number): Promise<boolean> {
  const names = await listDir(dir.path);
  const state = chooseOnDiskState(names);
  const doomed = new Set(state.obsolete);
  const cutoff = nowSeconds - reclaimAgeSeconds;
  if (state.tombstone && state.tombstone.timestamp.seconds < cutoff) {
    doomed.add(state.tombstone.name);
    // .meta files newer than the tombstone describe nothing once it is gone
    for (const name of names) if (parseObjectFileName(name)?.kind === 'meta') doomed.add(name);
  }
  if (!state.data && !state.tombstone) {
    for (const name of names) {
      const parsed = parseObjectFileName(name);
      if (parsed?.kind === 'meta' && parsed.timestamp.seconds < cutoff) doomed.add(name);
    }
  }
  for (const name of doomed) await unlinkQuietly(join(dir.path, name));
  if (doomed.size === names.length) {
    await pruneEmpty(dir.path, objectsDir);
    return true;
  }
  return false;
}

/** Removes exactly `names` from an object's directory, then the directories left empty (a handoff's copy once its primaries have it). */
export async function removeObjectFiles(dir: HashDir, names: readonly string[], objectsDir: string): Promise<void> {
  for (const name of names) await unlinkQuietly(join(dir.path, name));
  await pruneEmpty(dir.path, objectsDir);
}
