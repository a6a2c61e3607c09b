/**
 * Glance's `file` store: each image is one file named by its id in a data directory, and
 * its location is `file://<directory>/<imageId>` (the literal path after "file://", no
 * percent-encoding, exactly as Glance records it, so locations carry over both ways).
 *
 * Uploads go to `.<imageId>.<random>.tmp` in the same directory, are fsynced, then renamed
 * into place: the rename is atomic on one filesystem, so a reader sees no file or the whole
 * image. A process killed mid-upload leaves only a temporary file, which
 * sweepTemporaryFiles() removes (run it at start-up).
 *
 * A location is accepted only if it names an image file directly inside our directory, so
 * a location forged or edited in the database cannot read or delete anything else.
 */
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, open, readdir, rename, rm, stat, unlink, type FileHandle } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import { StoreDuplicate, StoreError, StoreFull, StoreNotFound, StoreUnavailable } from './errors.ts';
import { DEFAULT_WRITE_BUFFER, FileWriter } from '../../core/fs/file-writer.ts';
import { checkAddOptions, ingest } from './ingest.ts';
import { checkImageId, isImageId } from './names.ts';
import { clipRange } from './range.ts';
import type { AddOptions, ByteRange, ImageStore, StoredImage } from './types.ts';

export interface FileStoreOptions {
  id: string;
  /** Glance's filesystem_store_datadir. */
  directory: string;
  description?: string;
  /** Size of each disk write and of each chunk read back (Glance's chunk_size). */
  chunkSize?: number;
}

const DIR_MODE = 0o700;
const FILE_MODE = 0o600;
const SCHEME = 'file://';
const TEMPORARY = /^\.([A-Za-z0-9_-]+)\.[0-9a-f]+\.tmp$/;

export class FileStore implements ImageStore {
  readonly id: string;
  readonly type = 'file' as const;
  readonly description: string;
  readonly directory: string;
  readonly properties: Readonly<Record<string, string | number | boolean>>;
  private readonly chunkSize: number;

  constructor(options: FileStoreOptions) {
    this.id = options.id;
    this.directory = resolve(options.directory);
    this.description = options.description ?? `file store in ${this.directory}`;
    this.chunkSize = options.chunkSize ?? DEFAULT_WRITE_BUFFER;
    this.properties = { data_dir: this.directory, chunk_size: this.chunkSize, thin_provisioning: false };
  }

  async add(imageId: string, data: NodeJS.ReadableStream | AsyncIterable<Uint8Array>, opts: AddOptions = {}): Promise<StoredImage> {
    checkImageId(imageId);
    checkAddOptions(opts);
    await this.ensureDirectory();
    const path = join(this.directory, imageId);
    const location = SCHEME + path;
    // Glance refuses to overwrite; checked first so a duplicate fails before the body is read.
    if (await fileExists(path)) throw new StoreDuplicate(location);

    const temporary = join(this.directory, `.${imageId}.${randomBytes(8).toString('hex')}.tmp`);
    let fh: FileHandle | undefined;
    let writer: FileWriter | undefined;
    try {
      fh = await fsCall(open(temporary, 'wx', FILE_MODE));
      writer = new FileWriter(fh, this.chunkSize);
      const result = await ingest(data, opts, writer);
      await fsCall(writer.finish());
      await fsCall(fh.close());
      fh = undefined;
      await fsCall(rename(temporary, path));
      await syncDirectory(this.directory);
      return { location, ...result };
    } catch (err) {
      if (writer) await writer.abandon(); // a write in flight must land before the file is closed and removed
      if (fh) await fh.close().catch(() => {});
      await rm(temporary, { force: true }).catch(() => {});
      throw err;
    }
  }

  async get(location: string, range?: ByteRange): Promise<{ stream: NodeJS.ReadableStream; size: number }> {
    const path = this.pathOf(location);
    let fh: FileHandle;
    try {
      fh = await open(path, 'r');
    } catch (err) {
      if (code(err) === 'ENOENT') throw new StoreNotFound(location);
      throw mapFsError(err);
    }
    try {
      const { size } = await fh.stat();
      if (!range) {
        return { stream: fh.createReadStream({ highWaterMark: this.chunkSize }), size };
      }
      const { start, end } = clipRange(range, size);
      return { stream: fh.createReadStream({ start, end, highWaterMark: this.chunkSize }), size: end - start + 1 };
    } catch (err) {
      await fh.close().catch(() => {});
      if (err instanceof StoreError) throw err;
      throw mapFsError(err);
    }
  }

  async delete(location: string): Promise<void> {
    const path = this.pathOf(location);
    try {
      await unlink(path);
    } catch (err) {
      if (code(err) === 'ENOENT') return;
      throw mapFsError(err);
    }
  }

  async exists(location: string): Promise<boolean> {
    return fileExists(this.pathOf(location));
  }

  ownsLocation(location: string): boolean {
    try {
      this.pathOf(location);
      return true;
    } catch {
      return false;
    }
  }

  /** Sum of the image files' sizes (temporary files of uploads in progress are not counted). */
  async bytesUsed(): Promise<number> {
    let total = 0;
    for (const name of await this.names()) {
      if (!isImageId(name)) continue;
      const info = await stat(join(this.directory, name)).catch(() => null);
      if (info?.isFile()) total += info.size;
    }
    return total;
  }

  /**
   * Removes temporary files older than `olderThanMs` (default one day): leftovers of a
   * process that died mid-upload. The age keeps uploads still running in another process
   * sharing the directory (several API nodes on one NFS export) safe.
   */
  async sweepTemporaryFiles(olderThanMs = 24 * 3600 * 1000): Promise<string[]> {
    const removed: string[] = [];
    const cutoff = Date.now() - olderThanMs;
    for (const name of await this.names()) {
      if (!TEMPORARY.test(name)) continue;
      const path = join(this.directory, name);
      const info = await stat(path).catch(() => null);
      if (!info?.isFile() || info.mtimeMs > cutoff) continue;
      await rm(path, { force: true });
      removed.push(name);
    }
    return removed;
  }

  /** The file a location names, or StoreError when it is not one of this store's image files. */
  private pathOf(location: string): string {
    const path = location.startsWith(SCHEME) ? location.slice(SCHEME.length) : '';
    if (!isAbsolute(path) || path.includes('\0')) throw new StoreError(`not a file store location: ${location}`);
    const resolved = resolve(path); // folds "..": what is checked is what would be opened
    if (dirname(resolved) !== this.directory || !isImageId(basename(resolved))) {
      throw new StoreError(`location ${location} is outside the directory of store ${this.id}`);
    }
    return resolved;
  }

  private async names(): Promise<string[]> {
    try {
      return await readdir(this.directory);
    } catch (err) {
      if (code(err) === 'ENOENT') return [];
      throw mapFsError(err);
    }
  }

  private async ensureDirectory(): Promise<void> {
    // mkdir is cheap when the directory exists, and re-creates it if an operator removed it.
    const created = await fsCall(mkdir(this.directory, { recursive: true, mode: DIR_MODE }));
    if (created !== undefined) await fsCall(chmod(this.directory, DIR_MODE)); // exactly 0700, whatever the umask
  }
}

async function fileExists(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch (err) {
    if (code(err) === 'ENOENT') return false;
    throw mapFsError(err);
  }
}

/** Makes the rename durable. Best effort: not every platform can fsync a directory. */
async function syncDirectory(dir: string): Promise<void> {
  const fh = await open(dir, 'r').catch(() => undefined);
  if (!fh) return;
  await fh.sync().catch(() => {});
  await fh.close().catch(() => {});
}

const code = (err: unknown) => (err as NodeJS.ErrnoException | undefined)?.code;

/** Host failures become store errors the API can answer (413, 503); anything else passes through. */
function mapFsError(err: unknown): unknown {
  switch (code(err)) {
    case 'ENOSPC':
    case 'EDQUOT':
      return new StoreFull(undefined, { cause: err });
    case 'EACCES':
    case 'EPERM':
    case 'EROFS':
    case 'EIO':
      return new StoreUnavailable(`file store: ${(err as Error).message}`, { cause: err });
    default:
      return err;
  }
}

async function fsCall<T>(operation: Promise<T>): Promise<T> {
  try {
    return await operation;
  } catch (err) {
    throw mapFsError(err);
  }
}
