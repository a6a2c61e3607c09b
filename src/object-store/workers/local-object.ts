// One object as a device holds it, read the way the object server reads it (storage/object/
// ondisk.ts decides which files count): the newest .data or .ts, a newer .meta, and each one's
// metadata. A file whose trailer is unreadable, or whose data is not the size its metadata
// says, is quarantined here too, so no worker ever sends it on.
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { listDir } from '../storage/list-dir.ts';
import { CorruptObjectFile, readTrailer, type ObjectMetadata } from '../storage/object/file-format.ts';
import { chooseOnDiskState, type ObjectFileName } from '../storage/object/ondisk.ts';
import { quarantineFile } from '../storage/quarantine.ts';
import type { Timestamp } from '../storage/timestamp.ts';
import type { HashDir } from './walk.ts';

export interface LocalObjectFile {
  /** the file's name in the hash directory */
  name: string;
  path: string;
  timestamp: Timestamp;
  metadata: ObjectMetadata;
  /** bytes of data before the metadata trailer (0 for .meta and .ts) */
  dataLength: number;
}

export interface LocalObject {
  devicePath: string;
  dir: HashDir;
  /** /<account>/<container>/<object>, from the files' metadata */
  name: string;
  data?: LocalObjectFile;
  meta?: LocalObjectFile;
  tombstone?: LocalObjectFile;
  /** files newer ones have made redundant (left by a crash between a write and its cleanup) */
  obsolete: string[];
}

export interface ObjectName {
  account: string;
  container: string;
  object: string;
}

/** "/a/c/o" into its parts (the object keeps its slashes); undefined when it is not such a name. */
export function splitObjectName(name: string | undefined): ObjectName | undefined {
  const m = /^\/([^/]+)\/([^/]+)\/([\s\S]+)$/.exec(name ?? '');
  return m ? { account: m[1]!, container: m[2]!, object: m[3]! } : undefined;
}

async function readFile(dir: string, file: ObjectFileName): Promise<LocalObjectFile | undefined> {
  const path = join(dir, file.name);
  let handle;
  try {
    handle = await open(path, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  try {
    const { metadata, dataLength } = await readTrailer(handle);
    if (file.kind === 'data' && String(dataLength) !== metadata['content-length']) {
      throw new CorruptObjectFile(`metadata content-length ${metadata['content-length']} does not match the data size ${dataLength}`);
    }
    if (!splitObjectName(metadata.name)) throw new CorruptObjectFile('no object name in the metadata');
    return { name: file.name, path, timestamp: file.timestamp, metadata, dataLength };
  } finally {
    await handle.close();
  }
}

/**
 * The object in `dir` on the device at `devicePath`; undefined when nothing there decides its
 * state (an empty directory, orphan .meta files) or it changed under us three times running.
 */
export async function readLocalObject(devicePath: string, dir: HashDir, logger: Logger, onQuarantine?: (file: string) => void): Promise<LocalObject | undefined> {
  for (let attempt = 0; attempt < 3; attempt++) {
    const state = chooseOnDiskState(await listDir(dir.path));
    const chosen = [state.data, state.meta, state.tombstone].filter((f): f is ObjectFileName => f !== undefined);
    if (!chosen.length) return undefined;
    const files: Partial<Record<'data' | 'meta' | 'ts', LocalObjectFile>> = {};
    let changed = false;
    for (const file of chosen) {
      try {
        const read = await readFile(dir.path, file);
        if (!read) changed = true;
        else files[file.kind] = read;
      } catch (err) {
        if (!(err instanceof CorruptObjectFile)) throw err;
        const moved = await quarantineFile(devicePath, 'objects', dir.hash, join(dir.path, file.name)).catch(() => undefined);
        logger.error({ file: join(dir.path, file.name), quarantined: moved, reason: err.message }, 'quarantined a corrupt object file');
        if (moved) onQuarantine?.(moved);
        changed = true;
      }
    }
    if (changed) continue;
    const name = (files.data ?? files.ts ?? files.meta)!.metadata.name!;
    return { devicePath, dir, name, data: files.data, meta: files.meta, tombstone: files.ts, obsolete: state.obsolete };
  }
  return undefined;
}
