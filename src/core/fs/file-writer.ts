/**
 * Writes a stream of chunks to a file in large, sequential writes with one write in flight
 * while the next buffer fills (double buffering): the disk works while the caller prepares
 * the next bytes (receives, hashes), the syscall count stays low whatever the chunk size the
 * network delivers, and memory is two buffers however large the file.
 *
 * Every `syncEvery` bytes a datasync starts in the background (one at a time): the kernel
 * would otherwise keep the whole file in the page cache and write it only at the final
 * fsync; this way the disk writes as the file grows and the final fsync has little left.
 *
 * Chunks are copied into our buffers, so callers may reuse theirs once write() resolves.
 */
import type { FileHandle } from 'node:fs/promises';

export const DEFAULT_WRITE_BUFFER = 1024 * 1024;
export const DEFAULT_SYNC_EVERY = 32 * 1024 * 1024;

export class FileWriter {
  private readonly fh: FileHandle;
  /** allocated on first use, so a writer that gets little data costs little */
  private filling: Buffer | null = null;
  private spare: Buffer | null = null;
  private filled = 0;
  /** where the next buffer goes in the file */
  private position = 0;
  private abandoned = false;
  /** The write in flight; resolves to its error rather than rejecting, so nothing goes unhandled. */
  private inFlight: Promise<unknown> = Promise.resolve(null);
  /** The background datasync, likewise resolving to its error; null when none runs. */
  private syncing: Promise<unknown> | null = null;
  private syncError: unknown = null;
  private unsynced = 0;

  constructor(
    fh: FileHandle,
    private readonly bufferSize = DEFAULT_WRITE_BUFFER,
    private readonly syncEvery = DEFAULT_SYNC_EVERY,
  ) {
    this.fh = fh;
  }

  /** Bytes taken so far, written or still buffered. */
  get size(): number {
    return this.position + this.filled;
  }

  async write(chunk: Uint8Array): Promise<void> {
    const data = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    let offset = 0;
    while (offset < data.length) {
      this.filling ??= Buffer.allocUnsafe(this.bufferSize);
      const copied = data.copy(this.filling, this.filled, offset);
      this.filled += copied;
      offset += copied;
      if (this.filled === this.filling.length) await this.flush();
    }
  }

  /** Writes what is buffered and makes it durable (fsync) before the caller renames the file. */
  async finish(): Promise<void> {
    await this.flush();
    await this.settle();
    await this.syncing;
    if (this.syncError) throw this.syncError;
    await this.fh.sync();
  }

  /** On failure: starts no further write and waits for the one in flight, so the file can be closed and removed. */
  async abandon(): Promise<void> {
    this.abandoned = true;
    await this.inFlight;
    await this.syncing;
  }

  /** Waits for the write in flight and throws its error, if any. */
  private async settle(): Promise<void> {
    const error = await this.inFlight;
    if (error) throw error;
  }

  private async flush(): Promise<void> {
    await this.settle(); // the spare buffer is free once the previous write is done
    if (this.abandoned) throw new Error('file writer abandoned');
    if (this.filled === 0) return;
    const full = this.filling!;
    const length = this.filled;
    this.filling = this.spare;
    this.spare = full;
    this.filled = 0;
    this.inFlight = writeFully(this.fh, full, length, this.position).then(() => null, (err: unknown) => err ?? new Error('write failed'));
    this.position += length;
    this.unsynced += length;
    if (this.unsynced >= this.syncEvery && !this.syncing) this.startSync();
  }

  /** Starts a datasync of what has been written so far (after the write in flight). */
  private startSync(): void {
    this.unsynced = 0;
    this.syncing = this.inFlight
      .then(() => this.fh.datasync())
      .then(
        () => null,
        (err: unknown) => (this.syncError ??= err ?? new Error('datasync failed')),
      )
      .finally(() => {
        this.syncing = null;
      });
  }
}

async function writeFully(fh: FileHandle, buffer: Buffer, length: number, position: number): Promise<void> {
  let done = 0;
  while (done < length) {
    const { bytesWritten } = await fh.write(buffer, done, length - done, position + done);
    done += bytesWritten;
  }
}
