// One object on one device: its hash directory, what is there now, and the crash-safe ways to
// change it (Swift's DiskFile). Readers open the data file before reading its metadata, so a
// newer write that removes the file meanwhile cannot cut a response short.
import { open, unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { isSysMeta } from '../header-families.ts';
import { TempFile } from '../durable-file.ts';
import { KeyedLock } from '../keyed-lock.ts';
import { objectHashDir, tmpDir } from '../layout.ts';
import { listDir } from '../list-dir.ts';
import { quarantineFile } from '../quarantine.ts';
import { fail } from '../responses.ts';
import { Timestamp } from '../timestamp.ts';
import { CorruptObjectFile, encodeTrailer, readTrailer, type ObjectMetadata } from './file-format.ts';
import { chooseOnDiskState, objectFileName, type ObjectFileKind } from './ondisk.ts';

/** Data-file keys a POST's .meta cannot replace (Swift's RESERVED_DATAFILE_META and DATAFILE_SYSTEM_META). */
const DATA_FILE_KEYS = new Set(['content-length', 'deleted', 'etag', 'x-static-large-object', 'name']);

export interface ObjectLocation {
  devicePath: string;
  partition: string;
  hash: string;
  /** /<account>/<container>/<object>, stored in every file to catch hash collisions */
  name: string;
}

export type ObjectState =
  | { kind: 'missing' }
  | { kind: 'deleted'; timestamp: Timestamp }
  /** X-Delete-At has passed: reads as missing, but writes still compare against it */
  | { kind: 'expired'; timestamp: Timestamp; metadata: ObjectMetadata }
  | { kind: 'found'; object: OpenObject };

/** A readable object: metadata of its .data merged with its newest .meta, and the data file held open. */
export class OpenObject {
  constructor(
    private readonly handle: FileHandle,
    /** the merged metadata a GET or HEAD shows */
    readonly metadata: ObjectMetadata,
    /** what the PUT stored */
    readonly dataMetadata: ObjectMetadata,
    /** what the newest POST stored, if any */
    readonly metaMetadata: ObjectMetadata | undefined,
    readonly dataTimestamp: Timestamp,
    readonly contentLength: number,
  ) {}

  /** X-Timestamp: of the newest POST, else of the PUT */
  get timestamp(): Timestamp {
    return Timestamp.parse(this.metadata['x-timestamp']!);
  }

  get contentType(): string {
    return this.metadata['content-type'] ?? 'application/octet-stream';
  }

  /** When the current Content-Type was set: by a POST that changed it, else the PUT. */
  get contentTypeTimestamp(): Timestamp {
    return Timestamp.tryParse(this.metadata['content-type-timestamp']) ?? this.dataTimestamp;
  }

  /** Bytes [start, end) of the data, in chunks. */
  async *read(start = 0, end = this.contentLength, chunkSize = 65536): AsyncGenerator<Buffer> {
    for (let at = start; at < end; ) {
      const buffer = Buffer.allocUnsafe(Math.min(chunkSize, end - at));
      const { bytesRead } = await this.handle.read(buffer, 0, buffer.length, at);
      if (bytesRead === 0) throw new Error('object data ended early');
      at += bytesRead;
      yield buffer.subarray(0, bytesRead);
    }
  }

  async close(): Promise<void> {
    await this.handle.close().catch(() => undefined);
  }
}

export class DiskObjects {
  private readonly lock = new KeyedLock();

  constructor(private readonly logger: Logger) {}

  dir(location: ObjectLocation): string {
    return objectHashDir(location.devicePath, location.partition, location.hash);
  }

  /**
   * What the object is now, seen at `now` (seconds; for X-Delete-At). A found object's data
   * file is open: the caller must close() it. `openExpired` reads past X-Delete-At.
   */
  async open(location: ObjectLocation, now: number, openExpired = false): Promise<ObjectState> {
    // A concurrent write may remove the file we chose before we open it; choose again.
    for (let attempt = 0; attempt < 3; attempt++) {
      const names = await listDir(this.dir(location));
      const state = chooseOnDiskState(names);
      if (state.tombstone) return { kind: 'deleted', timestamp: state.tombstone.timestamp };
      if (!state.data) return { kind: 'missing' };
      const dataFile = join(this.dir(location), state.data.name);
      const handle = await openIfPresent(dataFile);
      if (!handle) continue;
      try {
        const { metadata: dataMetadata, dataLength } = await readTrailer(handle);
        if (dataMetadata.name !== location.name) {
          this.logger.error({ path: location.name, stored: dataMetadata.name, file: dataFile }, 'object path does not match the path stored in its metadata');
          fail(403, 'Client path does not match path stored in object metadata');
        }
        if (String(dataLength) !== dataMetadata['content-length']) {
          throw new CorruptObjectFile(`metadata content-length ${dataMetadata['content-length']} does not match the data size ${dataLength}`);
        }
        if (!Timestamp.tryParse(dataMetadata['x-timestamp'])) throw new CorruptObjectFile('no x-timestamp');
        const metaMetadata = state.meta ? await this.readMetaFile(location, join(this.dir(location), state.meta.name)) : undefined;
        const metadata = mergeMetadata(dataMetadata, metaMetadata, state.data.timestamp);
        const deleteAt = metadata['x-delete-at'];
        if (deleteAt !== undefined && /^\s*\d+\s*$/.test(deleteAt) && !openExpired && Number(deleteAt) <= now) {
          await handle.close();
          return { kind: 'expired', timestamp: state.data.timestamp, metadata };
        }
        return { kind: 'found', object: new OpenObject(handle, metadata, dataMetadata, metaMetadata, state.data.timestamp, dataLength) };
      } catch (err) {
        await handle.close().catch(() => undefined);
        if (!(err instanceof CorruptObjectFile)) throw err;
        await this.quarantine(location, dataFile, err);
      }
    }
    fail(503, 'object changed while being read');
  }

  /** A .meta file's metadata; undefined when it has gone meanwhile (a newer POST replaced it) or is corrupt (then quarantined). */
  private async readMetaFile(location: ObjectLocation, path: string): Promise<ObjectMetadata | undefined> {
    const handle = await openIfPresent(path);
    if (!handle) return undefined;
    try {
      const { metadata } = await readTrailer(handle);
      if (!Timestamp.tryParse(metadata['x-timestamp'])) throw new CorruptObjectFile('no x-timestamp');
      return metadata;
    } catch (err) {
      if (!(err instanceof CorruptObjectFile)) throw err;
      await this.quarantine(location, path, err);
      return undefined;
    } finally {
      await handle.close();
    }
  }

  private async quarantine(location: ObjectLocation, file: string, reason: CorruptObjectFile): Promise<void> {
    const moved = await quarantineFile(location.devicePath, 'objects', location.hash, file).catch(() => undefined);
    this.logger.error({ path: location.name, file, quarantined: moved, reason: reason.message }, 'quarantined a corrupt object file');
  }

  /** Installs a finished temp file (data and trailer written) as the object's newest <timestamp>.<kind>, then removes what it makes obsolete. */
  async install(location: ObjectLocation, file: TempFile, timestamp: Timestamp, kind: ObjectFileKind): Promise<void> {
    const dir = this.dir(location);
    await this.lock.run(dir, async () => {
      await file.commit(join(dir, objectFileName(timestamp, kind)));
      await this.cleanup(dir);
    });
  }

  /** Writes a .meta or .ts file holding only metadata. */
  async writeMetadataFile(location: ObjectLocation, kind: 'meta' | 'ts', metadata: ObjectMetadata): Promise<void> {
    const timestamp = Timestamp.parse(metadata['x-timestamp']!);
    const file = await TempFile.create(tmpDir(location.devicePath));
    try {
      await file.write(encodeTrailer({ ...metadata, name: location.name }));
      await this.install(location, file, timestamp, kind);
    } finally {
      await file.discard();
    }
  }

  private async cleanup(dir: string): Promise<void> {
    const { obsolete } = chooseOnDiskState(await listDir(dir));
    for (const name of obsolete) {
      await unlink(join(dir, name)).catch((err: NodeJS.ErrnoException) => {
        if (err.code !== 'ENOENT') this.logger.warn({ err, file: join(dir, name) }, 'could not remove an obsolete object file');
      });
    }
  }
}

/** The file opened for reading; undefined when it has gone (a newer write removed it). */
async function openIfPresent(path: string): Promise<FileHandle | undefined> {
  try {
    return await open(path, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/**
 * A POST's .meta replaces the user metadata, the allowed headers and X-Timestamp; the data
 * file keeps its size, ETag, system metadata and (unless the POST changed it later) its
 * Content-Type.
 */
function mergeMetadata(data: ObjectMetadata, meta: ObjectMetadata | undefined, dataTimestamp: Timestamp): ObjectMetadata {
  if (!meta) return { ...data };
  const merged: ObjectMetadata = { ...meta };
  for (const [key, value] of Object.entries(data)) {
    if (DATA_FILE_KEYS.has(key) || isSysMeta('object', key)) merged[key] = value;
  }
  const ctypeTimestamp = Timestamp.tryParse(meta['content-type-timestamp']);
  if (!meta['content-type'] || !ctypeTimestamp || !ctypeTimestamp.newerThan(dataTimestamp)) {
    if (data['content-type'] !== undefined) merged['content-type'] = data['content-type'];
    delete merged['content-type-timestamp'];
  }
  return merged;
}
