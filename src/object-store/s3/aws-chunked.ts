// The aws-chunked body encoding (Content-Encoding: aws-chunked) of SigV4 streaming uploads:
//   <hex size>[;chunk-signature=<sig>]\r\n<data>\r\n ... 0[;chunk-signature=<sig>]\r\n
//   [<trailer>:<value>\r\n ...]\r\n
// decoded as it streams. Each chunk's signature is checked before its last byte is let
// through, and the payload's last bytes only once the final chunk and the trailers are
// read and checked, so a tampered or truncated body never completes an upload.
import { createHash } from 'node:crypto';
import { ByteReader } from '../middleware/byte-reader.ts';
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

/** The next line without its CRLF; undefined when the stream ends first. */
async function readLine(reader: ByteReader): Promise<string | undefined> {
  for (;;) {
    const at = reader.buffered.indexOf('\r\n');
    if (at >= 0) return reader.take(at + 2).subarray(0, at).toString('latin1');
    if (reader.buffered.length > MAX_LINE) throw incomplete('invalid chunk header');
    if (!(await reader.more())) return undefined;
  }
}

/** Up to `max` bytes, as they come (no copy); undefined at the end of the stream. */
async function readSome(reader: ByteReader, max: number): Promise<Buffer | undefined> {
  while (reader.buffered.length === 0) if (!(await reader.more())) return undefined;
  return reader.take(Math.min(max, reader.buffered.length));
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
    const line = await readLine(reader);
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
      const piece = await readSome(reader, left);
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
    if (!(await reader.fill(2)) || reader.take(2).toString('latin1') !== '\r\n') throw incomplete();
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
    while (reader.buffered.length <= 2 && (await reader.more()));
    const rest = reader.buffered;
    if (rest.length !== 0 && rest.toString('latin1') !== '\r\n') throw incomplete();
    return;
  }
  for (;;) {
    const line = await readLine(reader);
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
