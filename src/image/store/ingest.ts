/**
 * The one read loop every store's add() runs: pull chunks from the caller's stream, enforce
 * the size limits before a byte too many is accepted, hash, keep the disk header, and hand
 * each chunk to the store's sink. The sink's promise is the backpressure: we do not ask
 * for the next chunk until the sink has taken this one, so memory stays bounded whatever
 * the image size.
 *
 * The caller's stream is never destroyed here; on failure we just stop reading (see
 * ImageStore.add). Only an async generator passed as `data` is told to finish (return()).
 */
import { Readable } from 'node:stream';
import { INSPECT_BYTES, inspectHeader } from '../disk/inspect.ts';
import { StoreQuotaExceeded, StoreSizeMismatch } from './errors.ts';
import { ImageHasher, type ImageDigest } from './hashing.ts';
import type { AddOptions } from './types.ts';

export interface IngestSink {
  /** Takes a chunk; it is only valid until the returned promise settles (sources may reuse buffers). */
  write(chunk: Buffer): Promise<void> | void;
}

export interface IngestResult extends ImageDigest {
  virtualSize: number | null;
  detectedFormat: string | null;
}

/**
 * Validates the options and fails fast when the announced size alone exceeds the quota,
 * before the store creates anything or reads a byte.
 */
export function checkAddOptions(opts: AddOptions): void {
  for (const key of ['expectedSize', 'maxSize'] as const) {
    const value = opts[key];
    if (value !== undefined && !(Number.isSafeInteger(value) && value >= 0)) {
      throw new RangeError(`${key} must be a non-negative integer`);
    }
  }
  if (opts.maxSize !== undefined && opts.expectedSize !== undefined && opts.expectedSize > opts.maxSize) {
    throw new StoreQuotaExceeded(opts.maxSize);
  }
  if (opts.signal?.aborted) throw abortError(opts.signal);
}

export async function ingest(
  data: NodeJS.ReadableStream | AsyncIterable<Uint8Array>,
  opts: AddOptions,
  sink: IngestSink,
): Promise<IngestResult> {
  const { expectedSize, maxSize, signal } = opts;
  const hasher = new ImageHasher(opts.hashAlgo);
  const header = Buffer.allocUnsafe(INSPECT_BYTES);
  let headerBytes = 0;
  const abort = abortPromise(signal);
  const chunks = iterate(data);
  let finished = false;
  try {
    for (;;) {
      const next = await abort.race(chunks.next());
      if (next.done) break;
      const chunk = toBuffer(next.value);
      const total = hasher.bytes + chunk.length;
      if (maxSize !== undefined && total > maxSize) throw new StoreQuotaExceeded(maxSize);
      if (expectedSize !== undefined && total > expectedSize) throw new StoreSizeMismatch(expectedSize, total);
      const hashing = hasher.update(chunk);
      if (headerBytes < INSPECT_BYTES) headerBytes += chunk.copy(header, headerBytes);
      await abort.race(sink.write(chunk));
      if (hashing) await abort.race(hashing);
    }
    if (expectedSize !== undefined && hasher.bytes !== expectedSize) throw new StoreSizeMismatch(expectedSize, hasher.bytes);
    const digest = await hasher.digest();
    finished = true;
    const { format, virtualSize } = inspectHeader(header.subarray(0, headerBytes));
    return { ...digest, virtualSize, detectedFormat: format };
  } finally {
    abort.dispose();
    if (!finished) {
      hasher.abandon();
      // Let an unfinished source run its cleanup, without waiting: a pending read may never end.
      chunks.return?.().catch(() => {});
    }
  }
}

type Chunk = Uint8Array | string;

function iterate(data: NodeJS.ReadableStream | AsyncIterable<Uint8Array>): AsyncIterator<Chunk> {
  if (data instanceof Readable) return data.iterator({ destroyOnReturn: false });
  if (Symbol.asyncIterator in data) return (data as AsyncIterable<Chunk>)[Symbol.asyncIterator]();
  // An old-style stream (only events and pipe): wrapping gives it an iterator.
  return new Readable().wrap(data).iterator({ destroyOnReturn: false });
}

function toBuffer(chunk: Chunk): Buffer {
  if (typeof chunk === 'string') return Buffer.from(chunk);
  return Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
}

/** The error Node's own APIs raise on abort, carrying the signal's reason. */
function abortError(signal: AbortSignal): Error {
  return Object.assign(new Error('The operation was aborted', { cause: signal.reason }), { name: 'AbortError', code: 'ABORT_ERR' });
}

/** Races each step of the loop against the signal, so a stalled client cannot hold an aborted add. */
function abortPromise(signal: AbortSignal | undefined) {
  if (!signal) return { race: <T>(p: Promise<T> | T) => p, dispose: () => {} };
  // Each wait gets its own listener, removed when the wait ends. (Promise.race against one
  // long-lived promise would hang a reaction, and with it every chunk read, on that promise
  // until the upload ends: memory growing with the image size.)
  const race = <T>(p: Promise<T> | T): Promise<T> | T => {
    if (signal.aborted) return Promise.reject(abortError(signal));
    if (!(p instanceof Promise)) return p;
    return new Promise<T>((resolve, reject) => {
      const onAbort = () => reject(abortError(signal));
      signal.addEventListener('abort', onAbort, { once: true });
      p.then(
        (value) => { signal.removeEventListener('abort', onAbort); resolve(value); },
        (err: unknown) => { signal.removeEventListener('abort', onAbort); reject(err); },
      );
    });
  };
  return { race, dispose: () => {} };
}
