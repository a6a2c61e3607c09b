// Crash-safe files: written under <device>/tmp, fsynced, renamed into place, and the
// directory fsynced, so a file under its final name is always whole. A process that dies
// mid-write leaves only a temp file, which nothing reads (and which is removed on failure).
import { randomBytes } from 'node:crypto';
import { closeSync, constants, fsyncSync, openSync } from 'node:fs';
import { mkdir, open, rename, unlink, type FileHandle } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { FileWriter } from '../../core/fs/file-writer.ts';

export async function fsyncDir(dir: string): Promise<void> {
  const handle = await open(dir, constants.O_RDONLY | constants.O_DIRECTORY);
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** fsyncDir for the synchronous paths (database creation). */
export function fsyncDirSync(dir: string): void {
  const fd = openSync(dir, constants.O_RDONLY | constants.O_DIRECTORY);
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Writes are gathered into this many bytes per write call (a network body arrives in 64 KiB pieces). */
const WRITE_BUFFER = 256 * 1024;

export class TempFile {
  private done = false;
  /** batches writes, keeps one in flight, and datasyncs large files as they grow (see FileWriter) */
  private readonly writer: FileWriter;

  private constructor(
    readonly path: string,
    private readonly handle: FileHandle,
  ) {
    this.writer = new FileWriter(handle, WRITE_BUFFER);
  }

  /** A new empty file in `tmpDir` (created if missing). */
  static async create(tmpDir: string): Promise<TempFile> {
    const path = join(tmpDir, `${randomBytes(12).toString('hex')}.tmp`);
    return new TempFile(path, await inDirectory(tmpDir, () => open(path, 'wx', 0o644)));
  }

  get size(): number {
    return this.writer.size;
  }

  /** Takes `data` (the caller may reuse it once this resolves); it reaches the disk by commit(). */
  async write(data: Uint8Array): Promise<void> {
    await this.writer.write(data);
  }

  /** Writes what is buffered, fsyncs, then renames to `target` (its directory made if needed) and fsyncs that directory. */
  async commit(target: string): Promise<void> {
    if (this.done) throw new Error('temp file already committed or discarded');
    await this.writer.finish();
    await this.handle.close();
    this.done = true;
    try {
      await inDirectory(dirname(target), () => rename(this.path, target));
    } catch (err) {
      await unlink(this.path).catch(() => undefined);
      throw err;
    }
    await fsyncDir(dirname(target));
  }

  /** Closes and removes the file; safe to call after commit (does nothing then). */
  async discard(): Promise<void> {
    if (this.done) return;
    this.done = true;
    await this.writer.abandon();
    await this.handle.close().catch(() => undefined);
    await unlink(this.path).catch(() => undefined);
  }
}

/**
 * Makes a file in `dir` with `make`, creating `dir` only when it is missing: it is there for
 * every write but the first (tmp/) or the first of an object (its hash directory), so a
 * write does not pay for a mkdir each time.
 */
async function inDirectory<T>(dir: string, make: () => Promise<T>): Promise<T> {
  try {
    return await make();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    await mkdir(dir, { recursive: true });
    return make();
  }
}

/** Writes `data` to `target` crash-safely (via `tmpDir`). */
export async function writeFileDurably(tmpDir: string, target: string, data: Uint8Array): Promise<void> {
  const file = await TempFile.create(tmpDir);
  try {
    await file.write(data);
    await file.commit(target);
  } finally {
    await file.discard();
  }
}
