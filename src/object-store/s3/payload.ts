// What an S3 request's body must prove as it streams through to the object servers
// (Swift's s3api HashingInput, StreamingInput and ChecksummingInput):
//   - x-amz-content-sha256 as a hex digest: the body's SHA-256;
//   - STREAMING-*: an aws-chunked body, decoded, its chunk signatures checked when signed;
//   - x-amz-checksum-<algorithm> (header or aws-chunked trailer): that checksum of the payload.
// A body that fails a check errors before its last byte is passed on, so the object server
// never completes the write; the error is kept so the S3 answer can name it.
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { decodeAwsChunked } from './aws-chunked.ts';
import { checksumFor, checksumHeaderNames, decodeChecksumValue, isChecksumHeader, type Checksum } from './checksums.ts';
import { S3Error, s3Error } from './errors.ts';
import { ChunkSignatures, sha256Hex, type S3Auth, type SigV4Auth } from './signature.ts';

const STREAMING = new Set([
  'STREAMING-UNSIGNED-PAYLOAD-TRAILER',
  'STREAMING-AWS4-HMAC-SHA256-PAYLOAD',
  'STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER',
  'STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD',
  'STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD-TRAILER',
]);

export interface PayloadRequest {
  method: string;
  query: URLSearchParams;
  headers: Record<string, string>;
  body?: Readable;
}

export interface Payload {
  /** the body as the object servers should see it (decoded, verified as read) */
  body?: Readable;
  /** the length of that body, when known */
  contentLength?: string;
  /** the error the body failed with, once it has */
  failure(): S3Error | undefined;
}

/** The checksum header or trailer the request names, checked for sense (Swift's _validate_checksum_headers). */
function checksumPlan(headers: Record<string, string>): { name: string; checksum: Checksum; inTrailer: boolean } | undefined {
  const inHeaders = checksumHeaderNames(headers);
  if (inHeaders.some((h) => !isChecksumHeader(h))) throw s3Error('InvalidRequest', {}, 'The algorithm type you specified in x-amz-checksum- header is invalid.');
  if (inHeaders.length > 1) throw s3Error('InvalidRequest', {}, 'Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed.');
  const trailerText = (headers['x-amz-trailer'] ?? '').trim();
  const inTrailers = trailerText ? trailerText.replace(/,$/, '').split(',').map((t) => t.trim().toLowerCase()) : [];
  if (inTrailers.some((t) => !isChecksumHeader(t))) throw s3Error('InvalidRequest', {}, 'The value specified in the x-amz-trailer header is not supported');
  if (inHeaders.length + inTrailers.length > 1) throw s3Error('InvalidRequest', {}, 'Expecting a single x-amz-checksum- header');

  let plan: { name: string; checksum: Checksum; inTrailer: boolean } | undefined;
  if (inHeaders.length) {
    const name = inHeaders[0]!;
    const checksum = checksumFor(name);
    if (!decodeChecksumValue(checksum, headers[name])) throw s3Error('InvalidRequest', {}, `Value for ${name} header is invalid.`);
    plan = { name, checksum, inTrailer: false };
  } else if (inTrailers.length) {
    plan = { name: inTrailers[0]!, checksum: checksumFor(inTrailers[0]!), inTrailer: true };
  }
  const sdkAlgorithm = headers['x-amz-sdk-checksum-algorithm'];
  if (sdkAlgorithm) {
    if (!plan) throw s3Error('InvalidRequest', {}, 'x-amz-sdk-checksum-algorithm specified, but no corresponding x-amz-checksum-* or x-amz-trailer headers were found.');
    if (sdkAlgorithm.toLowerCase() !== plan.checksum.algorithm) throw s3Error('InvalidRequest', {}, 'Value for x-amz-sdk-checksum-algorithm header is invalid.');
  }
  return plan;
}

/** Passes `source` on, holding its last piece back until `finish` (which may throw) has run. */
async function* verifiedAtEnd(source: AsyncIterable<Buffer>, update: (piece: Buffer) => void, finish: () => void): AsyncGenerator<Buffer> {
  let held: Buffer | undefined;
  for await (const piece of source) {
    update(piece);
    if (held) yield held;
    held = piece;
  }
  finish();
  if (held) yield held;
}

function sha256Checked(source: AsyncIterable<Buffer>, expected: string): AsyncGenerator<Buffer> {
  const hash = createHash('sha256');
  return verifiedAtEnd(source, (piece) => hash.update(piece), () => {
    const computed = hash.digest('hex');
    if (computed !== expected.toLowerCase()) {
      throw s3Error('XAmzContentSHA256Mismatch', { ClientComputedContentSHA256: expected, S3ComputedContentSHA256: computed });
    }
  });
}

function checksumChecked(source: AsyncIterable<Buffer>, name: string, checksum: Checksum, expected: () => string | undefined, inTrailer: boolean): AsyncGenerator<Buffer> {
  return verifiedAtEnd(source, (piece) => checksum.update(piece), () => {
    const claimed = decodeChecksumValue(checksum, expected());
    if (!claimed) {
      throw s3Error('InvalidRequest', {}, inTrailer ? `Value for ${name} trailing header is invalid.` : `Value for ${name} header is invalid.`);
    }
    if (!claimed.equals(checksum.digest())) {
      throw s3Error('BadDigest', {}, `The ${checksum.algorithm.toUpperCase()} you specified did not match the calculated checksum.`);
    }
  });
}

/**
 * Validates the payload headers of an S3 request and wraps its body so that it is checked as
 * it is read. Throws the S3Error a request with inconsistent payload headers gets.
 */
export function preparePayload(req: PayloadRequest, auth: S3Auth): Payload {
  const headers = req.headers;
  const declared = headers['content-length'];
  if (declared !== undefined && !/^\d+$/.test(declared)) throw s3Error('InvalidArgument', { ArgumentName: 'Content-Length', ArgumentValue: declared });

  const contentSha256 = headers['x-amz-content-sha256'];
  const v4Header = auth.version === 4 && auth.via === 'header';
  if (!contentSha256 && v4Header) throw s3Error('InvalidRequest', {}, 'Missing required header for this request: x-amz-content-sha256');
  const streaming = contentSha256 !== undefined && STREAMING.has(contentSha256);
  let decodedLength: number | undefined;
  if (streaming) {
    const text = headers['x-amz-decoded-content-length'];
    if (text === undefined || !/^-?\d+$/.test(text)) throw s3Error('MissingContentLength');
    decodedLength = Number(text);
    if (decodedLength < 0) throw s3Error('InvalidArgument', { ArgumentName: 'x-amz-decoded-content-length', ArgumentValue: text });
    if (!v4Header) {
      if (declared !== undefined && decodedLength < Number(declared)) {
        throw s3Error('IncompleteBody', { NumberBytesExpected: decodedLength, NumberBytesProvided: declared });
      }
      throw s3Error('XAmzContentSHA256Mismatch', { ClientComputedContentSHA256: contentSha256 });
    }
    if (contentSha256.includes('ECDSA')) throw s3Error('NotImplemented', {}, `Don't know how to validate ${contentSha256} streams`);
  } else if (contentSha256 && contentSha256 !== 'UNSIGNED-PAYLOAD' && v4Header && !/^[0-9a-fA-F]{64}$/.test(contentSha256)) {
    throw s3Error('InvalidArgument', { ArgumentName: 'x-amz-content-sha256', ArgumentValue: contentSha256 },
      'x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-UNSIGNED-PAYLOAD-TRAILER, STREAMING-AWS4-HMAC-SHA256-PAYLOAD, STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER or a valid sha256 value.');
  }

  let failure: S3Error | undefined;
  const result: Payload = { body: req.body, contentLength: declared, failure: () => failure };
  if (req.method !== 'PUT' && req.method !== 'POST') return result;

  const checksum = checksumPlan(headers);
  if (checksum?.inTrailer && !streaming) throw s3Error('MalformedTrailerError');
  const source: AsyncIterable<Buffer> = req.body ?? Readable.from([]);
  let stream: AsyncIterable<Buffer> | undefined;
  const trailers: Record<string, string> = {};

  if (streaming) {
    const signed = contentSha256 !== 'STREAMING-UNSIGNED-PAYLOAD-TRAILER';
    const expectedTrailers = new Set<string>();
    if (contentSha256.endsWith('-TRAILER') && signed) expectedTrailers.add('x-amz-trailer-signature');
    if (checksum?.inTrailer) expectedTrailers.add(checksum.name);
    const v4 = auth as SigV4Auth;
    stream = decodeAwsChunked(source, {
      decodedLength: decodedLength!,
      expectedTrailers,
      trailers,
      signatures: signed
        ? () => {
          // s3token puts the key here; without the secret the chunks cannot be checked
          if (!v4.signingKey) throw s3Error('NotImplemented', {}, 'Transferring payloads in multiple chunks using aws-chunked is not supported.');
          return new ChunkSignatures(v4, v4.signingKey);
        }
        : undefined,
    });
    result.contentLength = String(decodedLength);
  } else if (contentSha256 && contentSha256 !== 'UNSIGNED-PAYLOAD') {
    if (!req.body && sha256Hex('') !== contentSha256.toLowerCase()) {
      throw s3Error('XAmzContentSHA256Mismatch', { ClientComputedContentSHA256: contentSha256, S3ComputedContentSHA256: sha256Hex('') });
    }
    if (req.body) stream = sha256Checked(source, contentSha256);
  }

  const verifyChecksum = checksum && (req.method === 'PUT' || req.query.has('delete'));
  if (verifyChecksum) {
    const from = checksum.inTrailer ? () => trailers[checksum.name] : () => headers[checksum.name];
    stream = checksumChecked(stream ?? source, checksum.name, checksum.checksum, from, checksum.inTrailer);
  }
  if (!stream) return result;

  const guarded = async function* (inner: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
    try {
      yield* inner;
    } catch (err) {
      failure = err instanceof S3Error ? err : s3Error('IncompleteBody');
      throw failure;
    }
  };
  result.body = Readable.from(guarded(stream), { objectMode: false });
  return result;
}
