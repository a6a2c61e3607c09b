// Pull-style reading of a request body for the parsers here (tar, multipart forms): take exactly
// as many bytes as a format needs next, look ahead for a delimiter, and leave the rest for
// later, without ever holding more than the look-ahead in memory.
import { PassThrough, Readable, type Transform } from 'node:stream';

export class ByteReader {
  #buffer: Buffer = Buffer.alloc(0);
  #source: AsyncIterator<Buffer | string | Uint8Array>;
  #ended = false;
  #error: unknown;
  /** bytes taken so far */
  position = 0;

  constructor(source: AsyncIterable<Buffer | string | Uint8Array>) {
    this.#source = source[Symbol.asyncIterator]();
  }

  /** Why the source failed, once it has (a client gone, a decompressor refusing its input). */
  get error(): unknown {
    return this.#error;
  }

  /** What has been read ahead and not taken yet. */
  get buffered(): Buffer {
    return this.#buffer;
  }

  /** True once the source has nothing more and the look-ahead is empty. */
  get exhausted(): boolean {
    return this.#ended && this.#buffer.length === 0;
  }

  /** Reads one more chunk into the look-ahead; false at the end of the source. */
  async more(): Promise<boolean> {
    if (this.#error !== undefined) throw this.#error;
    if (this.#ended) return false;
    let next: IteratorResult<Buffer | string | Uint8Array>;
    try {
      next = await this.#source.next();
    } catch (err) {
      // every later read fails the same way, so the first cause is the one reported
      this.#error = err;
      throw err;
    }
    const { value, done } = next;
    if (done) {
      this.#ended = true;
      return false;
    }
    const chunk = typeof value === 'string' ? Buffer.from(value) : Buffer.isBuffer(value) ? value : Buffer.from(value);
    this.#buffer = this.#buffer.length ? Buffer.concat([this.#buffer, chunk]) : chunk;
    return true;
  }

  /** Reads ahead until `n` bytes are buffered; false when the source ends first. */
  async fill(n: number): Promise<boolean> {
    while (this.#buffer.length < n) if (!(await this.more())) return false;
    return true;
  }

  /** Takes `n` buffered bytes (n must not exceed what is buffered). */
  take(n: number): Buffer {
    const out = this.#buffer.subarray(0, n);
    this.#buffer = this.#buffer.subarray(n);
    this.position += out.length;
    return out;
  }

  /** Up to `n` bytes: fewer only at the end of the source, none once it is exhausted. */
  async read(n: number): Promise<Buffer> {
    if (this.#buffer.length === 0) await this.more();
    return this.take(Math.min(n, this.#buffer.length));
  }

  /** Exactly `n` bytes, or what there was before the end of the source. */
  async readFully(n: number): Promise<Buffer> {
    await this.fill(n);
    return this.take(Math.min(n, this.#buffer.length));
  }

  /** Skips `n` bytes; returns how many there were to skip. */
  async skip(n: number): Promise<number> {
    let skipped = 0;
    while (skipped < n) {
      const chunk = await this.read(n - skipped);
      if (chunk.length === 0) break;
      skipped += chunk.length;
    }
    return skipped;
  }
}

/**
 * A reader of a request body through a stream of our own (a decompressor, or a plain pass-through).
 * Reading the request directly would tie its fate to ours: giving up on an async iterator
 * destroys the request, and with it the socket the response still has to go out on. Here
 * `release` unhooks the request and lets whatever is left of it drain, so the connection
 * stays usable.
 */
export function requestReader(body: Readable | undefined, through: Transform = new PassThrough()): { reader: ByteReader; release(): void } {
  if (body === undefined) through.end();
  else {
    body.on('error', (err) => through.destroy(err));
    body.pipe(through);
  }
  return {
    reader: new ByteReader(through),
    release: () => {
      if (body === undefined) return;
      body.unpipe(through);
      through.destroy();
      body.resume();
    },
  };
}

/** `bytes` without the ASCII whitespace around it (Python's bytes.strip()). */
export function trimSpace(bytes: Buffer): Buffer {
  const space = (b: number) => b === 0x20 || (b >= 0x09 && b <= 0x0d);
  let start = 0;
  let end = bytes.length;
  while (start < end && space(bytes[start]!)) start++;
  while (end > start && space(bytes[end - 1]!)) end--;
  return bytes.subarray(start, end);
}

/**
 * One stretch of a stream (a tar member's data, a form part's body) that is read through
 * exactly once: by a consumer through stream(), or, for whatever the consumer left, by skip().
 * `readSome` takes the next piece and `done` says when the stretch is over; the two never run
 * at once, so a consumer that gives up midway cannot race the skip.
 */
export class Section {
  #inflight: Promise<Buffer> | undefined;
  #detached = false;
  #streamed = false;

  constructor(
    private readonly readSome: () => Promise<Buffer>,
    private readonly done: () => boolean,
  ) {}

  stream(): Readable {
    if (this.#streamed) throw new Error('this can be read once');
    this.#streamed = true;
    const self = this;
    const stream = Readable.from(
      (async function* () {
        while (!self.done() && !self.#detached) {
          const chunk = await (self.#inflight = self.readSome());
          self.#inflight = undefined;
          if (self.#detached) return;
          if (chunk.length) yield chunk;
        }
      })(),
      { objectMode: false },
    );
    // the consumer hears of a failure while it reads; after it stops, skip() reports it
    stream.on('error', () => undefined);
    return stream;
  }

  /** Reads past whatever the consumer did not take; it gets nothing more. */
  async skip(): Promise<void> {
    this.#detached = true;
    if (this.#inflight) await this.#inflight.catch(() => undefined);
    while (!this.done()) await this.readSome();
  }
}
