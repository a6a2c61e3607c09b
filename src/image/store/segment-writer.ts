/**
 * Cuts an image stream into objects of at most `segmentSize` bytes and uploads each as it
 * fills, one at a time: memory holds one pipe's buffer, never a segment. The put's read
 * side is the backpressure: write() waits while the object service is slower than the
 * client.
 *
 * On failure, abort() makes the segment in flight fail (its put sees the error, so no
 * partial object appears) and deletes the segments already stored.
 */
import { once } from 'node:events';
import { PassThrough } from 'node:stream';
import { StoreError, StoreUnavailable } from './errors.ts';
import type { IngestSink } from './ingest.ts';
import type { Segment } from './manifest.ts';
import type { ObjectStorageClient } from './object-storage-client.ts';

const PIPE_BUFFER = 1024 * 1024;

interface OpenSegment {
  name: string;
  body: PassThrough;
  bytes: number;
  /** Settles when the put does; never rejects (an error is returned), so nothing goes unhandled. */
  done: Promise<{ etag: string } | { error: unknown }>;
}

export interface SegmentWriterOptions {
  client: ObjectStorageClient;
  container: string;
  /** The object name of segment `index` (0-based). */
  nameOf: (index: number) => string;
  segmentSize: number;
  /** When the total is known each put gets its exact Content-Length; otherwise they go chunked. */
  expectedSize?: number;
}

export class SegmentWriter implements IngestSink {
  readonly segments: Segment[] = [];
  private readonly options: SegmentWriterOptions;
  private current: OpenSegment | undefined;
  private written = 0;

  constructor(options: SegmentWriterOptions) {
    this.options = options;
  }

  async write(chunk: Buffer): Promise<void> {
    let at = 0;
    while (at < chunk.length) {
      const segment = this.current ?? this.open();
      const take = Math.min(this.options.segmentSize - segment.bytes, chunk.length - at);
      // Copied: the pipe keeps the bytes after this call returns, and sources may reuse their buffers.
      const piece = Buffer.from(chunk.subarray(at, at + take));
      segment.bytes += take;
      this.written += take;
      at += take;
      if (!segment.body.write(piece)) await this.drained(segment);
      if (segment.bytes === this.options.segmentSize) await this.close(segment);
    }
  }

  /** Completes the last segment; resolves with every segment, in order. */
  async finish(): Promise<Segment[]> {
    if (this.current) await this.close(this.current);
    return this.segments;
  }

  /** Fails the put in flight with `reason` and deletes what was stored. Never throws. */
  async abort(reason: unknown): Promise<void> {
    const { client, container } = this.options;
    const segment = this.current;
    this.current = undefined;
    if (segment) {
      segment.body.destroy(reason instanceof Error ? reason : new StoreError(String(reason)));
      await segment.done;
    }
    const names = this.segments.map((s) => s.name);
    if (segment) names.push(segment.name); // in case the service kept it anyway
    for (const name of names) await client.deleteObject(container, name).catch(() => {});
  }

  private open(): OpenSegment {
    const { client, container, nameOf, segmentSize, expectedSize } = this.options;
    const name = nameOf(this.segments.length);
    const body = new PassThrough({ highWaterMark: PIPE_BUFFER });
    body.on('error', () => {}); // seen through `done`; an unlistened 'error' would crash the process
    const contentLength = expectedSize === undefined ? undefined : Math.min(segmentSize, expectedSize - this.written);
    const done = client.putObject(container, name, body, { contentLength, contentType: 'application/octet-stream' }).then(
      ({ etag }) => ({ etag }),
      (error: unknown) => ({ error }),
    );
    this.current = { name, body, bytes: 0, done };
    return this.current;
  }

  private async close(segment: OpenSegment): Promise<void> {
    segment.body.end();
    const outcome = await segment.done;
    if ('error' in outcome) throw serviceError(outcome.error, segment.name);
    this.segments.push({ name: segment.name, etag: outcome.etag, size: segment.bytes });
    this.current = undefined;
  }

  /** Waits for the pipe to drain, or for the put to end first (it failed, or stopped reading). */
  private async drained(segment: OpenSegment): Promise<void> {
    const stop = new AbortController();
    try {
      await Promise.race([
        once(segment.body, 'drain', { signal: stop.signal }),
        segment.done.then((outcome) => {
          throw 'error' in outcome ? serviceError(outcome.error, segment.name) : new StoreError(`object service stopped reading ${segment.name} early`);
        }),
      ]);
    } finally {
      stop.abort();
    }
  }
}

function serviceError(error: unknown, name: string): StoreError {
  if (error instanceof StoreError) return error;
  return new StoreUnavailable(`object storage put of ${name} failed: ${(error as Error)?.message ?? String(error)}`, { cause: error });
}
