// The aws-chunked body encoding (Content-Encoding: aws-chunked) of SigV4 streaming uploads:
//   <hex size>[;chunk-signature=<sig>]\r\n<data>\r\n ... 0[;chunk-signature=<sig>]\r\n
//   [<trailer>:<value>\r\n ...]\r\n
// decoded as it streams. Each chunk's signature is checked before its last byte is let
// through, and the payload's last bytes only once the final chunk and the trailers are
// read and checked, so a tampered or truncated body never completes an upload.
import { createHash } from 'node:crypto';
import { s3Error } from './errors.ts';
import type { ChunkSignatures } from './signature.ts';

/** AWS's minimum size of every chunk but the last. */
export const MIN_CHUNK_SIZE = 8192;
/** A chunk header or trailer line longer than this is not one. */
const MAX_LINE = 4096;

export interface AwsChunkedOptions {
  /** x-amz-decoded-content-length: the payload bytes the chunks must add up to */
  decodedLength: number;
  /** the chunk-signature checker; undefined for unsigned chunks (STREAMING-UNSIGNED-PAYLOAD-TRAILER) */
  signatures?: () => ChunkSignatures;
  /** trailer names announced by x-amz-trailer (plus x-amz-trailer-signature when signed) */
  expectedTrailers: Set<string>;
  /** filled with the trailers once the body is read */
  trailers: Record<string, string>;
}

const incomplete = (why = 'The request body terminated unexpectedly') => s3Error('IncompleteBody', {}, why);

/** Reads lines and byte runs from a stream of Buffers without copying the data runs. */
class ByteReader {
  private buffered: Buffer = Buffer.alloc(0);
  private ended = false;
  private readonly source: AsyncIterator<Buffer>;

  constructor(source: AsyncIterable<Buffer>) {
    this.source = source[Symbol.asyncIterator]();
  }

  private async fill(): Promise<boolean> {
    if (this.ended) return false;
    const next = await this.source.next();
    if (next.done) {
      this.ended = true;
      return false;
    }
    const piece = Buffer.isBuffer(next.value) ? next.value : Buffer.from(next.value);
    this.buffered = this.buffered.length ? Buffer.concat([this.buffered, piece]) : piece;
    return true;
  }

  /** The next line without its CRLF; undefined at the end of the stream. */
  async line(): Promise<string | undefined> {
    for (;;) {
      const at = this.buffered.indexOf('\r\n');
      if (at >= 0) {
        const line = this.buffered.subarray(0, at).toString('latin1');
        this.buffered = this.buffered.subarray(at + 2);
        return line;
      }
      if (this.buffered.length > MAX_LINE) throw incomplete(`invalid chunk header`);
      if (!(await this.fill())) {
        if (this.buffered.length) throw incomplete();
        return undefined;
      }
    }
  }

  /** Up to `max` bytes; undefined at the end of the stream. */
  async read(max: number): Promise<Buffer | undefined> {
    if (this.buffered.length === 0 && !(await this.fill())) return undefined;
    const piece = this.buffered.subarray(0, Math.min(max, this.buffered.length));
    this.buffered = this.buffered.subarray(piece.length);
    return piece;
  }

  /** Exactly `n` bytes; undefined when the stream ends before. */
  async exact(n: number): Promise<Buffer | undefined> {
    while (this.buffered.length < n && (await this.fill()));
    if (this.buffered.length < n) return undefined;
    const out = this.buffered.subarray(0, n);
    this.buffered = this.buffered.subarray(n);
    return out;
  }

  /** All that is left, or more than `limit` bytes of it when there is more. */
  async remainder(limit: number): Promise<Buffer> {
    while (this.buffered.length <= limit && (await this.fill()));
    return this.buffered;
  }
}

function chunkHeader(line: string, signed: boolean): { size: number; signature?: string } {
  const semi = line.indexOf(';');
  const sizeText = semi < 0 ? line : line.slice(0, semi);
  if (!/^[0-9a-fA-F]+$/.test(sizeText)) throw incomplete(`invalid chunk header: ${line}`);
  const size = parseInt(sizeText, 16);
  if (!signed) return { size };
  if (semi < 0) throw incomplete();
  const [name, value] = line.slice(semi + 1).split('=', 2) as [string, string | undefined];
  if (name.trim() !== 'chunk-signature') throw s3Error('SignatureDoesNotMatch');
  const signature = (value ?? '').trim();
  if (!signature || signature.includes(';')) throw incomplete();
  return { size, signature };
}

/** The decoded payload of an aws-chunked body. */
export async function* decodeAwsChunked(body: AsyncIterable<Buffer>, opts: AwsChunkedOptions): AsyncGenerator<Buffer> {
  const reader = new ByteReader(body);
  const signed = opts.signatures !== undefined;
  let signatures: ChunkSignatures | undefined;
  let remaining = opts.decodedLength;
  let previousSize: number | undefined;
  let chunkNumber = 0;
  // the payload's last bytes wait for the final chunk and the trailers
  let held: Buffer | undefined;

  for (;;) {
    const line = await reader.line();
    if (line === undefined) throw incomplete();
    chunkNumber++;
    const { size, signature } = chunkHeader(line, signed);
    if (previousSize !== undefined && previousSize < MIN_CHUNK_SIZE && size !== 0) {
      throw s3Error('InvalidChunkSizeError', { Chunk: chunkNumber, BadChunkSize: previousSize });
    }
    previousSize = size;
    if (size > remaining) {
      throw s3Error('IncompleteBody', { NumberBytesExpected: opts.decodedLength, NumberBytesProvided: opts.decodedLength - remaining + size });
    }
    if (signed) signatures ??= opts.signatures!();
    const hash = signed ? createHash('sha256') : undefined;
    let left = size;
    while (left > 0) {
      const piece = await reader.read(left);
      if (piece === undefined) {
        throw s3Error('IncompleteBody', { NumberBytesExpected: opts.decodedLength, NumberBytesProvided: opts.decodedLength - remaining + size - left });
      }
      hash?.update(piece);
      left -= piece.length;
      if (left === 0 && signatures && !signatures.checkChunk(hash!.digest('hex'), signature!)) throw s3Error('SignatureDoesNotMatch');
      if (remaining - (size - left) === 0) held = piece;
      else yield piece;
    }
    if (size === 0) {
      if (signatures && !signatures.checkChunk(createHash('sha256').digest('hex'), signature!)) throw s3Error('SignatureDoesNotMatch');
      break;
    }
    remaining -= size;
    if ((await reader.exact(2))?.toString('latin1') !== '\r\n') throw incomplete();
  }

  await readTrailers(reader, opts, signatures);
  if (remaining !== 0) {
    throw s3Error('IncompleteBody', { NumberBytesExpected: opts.decodedLength, NumberBytesProvided: opts.decodedLength - remaining });
  }
  if (held) yield held;
}

async function readTrailers(reader: ByteReader, opts: AwsChunkedOptions, signatures: ChunkSignatures | undefined): Promise<void> {
  if (opts.expectedTrailers.size === 0) {
    // after the final chunk: nothing, or the empty line that ends the (absent) trailers
    const rest = await reader.remainder(2);
    if (rest.length !== 0 && rest.toString('latin1') !== '\r\n') throw incomplete();
    return;
  }
  for (;;) {
    const line = await reader.line();
    if (line === undefined) throw incomplete();
    if (line === '') break;
    const colon = line.indexOf(':');
    const name = (colon < 0 ? line : line.slice(0, colon)).trim().toLowerCase();
    if (!opts.expectedTrailers.has(name)) throw s3Error('MalformedTrailerError');
    opts.trailers[name] = colon < 0 ? '' : line.slice(colon + 1).trim();
  }
  const signatureTrailer = opts.trailers['x-amz-trailer-signature'];
  if (opts.expectedTrailers.has('x-amz-trailer-signature') && signatureTrailer === undefined) throw incomplete();
  if (Object.keys(opts.trailers).length !== opts.expectedTrailers.size) throw s3Error('MalformedTrailerError');
  if (signatures && signatureTrailer !== undefined && !signatures.checkTrailer(opts.trailers, signatureTrailer)) {
    throw s3Error('SignatureDoesNotMatch');
  }
}
