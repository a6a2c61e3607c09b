// Bodies checked as they stream: aws-chunked (signatures made by hand with Python's
// hmac/hashlib), x-amz-content-sha256, x-amz-checksum-* in headers and trailers.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { checksumFor } from './checksums.ts';
import { S3Error } from './errors.ts';
import { preparePayload, type PayloadRequest } from './payload.ts';
import { parseS3Auth, type S3Auth } from './signature.ts';

const SECRET = 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY';
const DATA = Buffer.from(Array.from({ length: 70000 }, (_, i) => i % 251));
const opts = { location: 'us-east-1', allowableClockSkew: 900, now: Date.UTC(2024, 4, 6, 7, 8, 9) };

// Python: seed and chunk signatures of DATA in chunks of 65536 and 4464 bytes
const SEED = '765c19a87111c300251f0a6cdb39f97c2787216404c1cf8756d775a49174088f';
const CHUNK_SIGNATURES = [
  '35db736703d80285deb7813dcf4a0b0a0e3399c9c8d21f3ce0f1d390f91b607a',
  'c9dfeede1b2b9ba26246fb399a56793842da4072e66e71543ccfbfcf81123b28',
  '8109e3f4f1f01fc90c5549344c9e31cd1711dfaad7d8f6f0844f40d8792f52b2',
];

function chunkedHeaders(): Record<string, string> {
  return {
    host: '127.0.0.1:8080',
    'content-encoding': 'aws-chunked',
    'x-amz-content-sha256': 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD',
    'x-amz-date': '20240506T070809Z',
    'x-amz-decoded-content-length': String(DATA.length),
    authorization: `AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240506/us-east-1/s3/aws4_request, SignedHeaders=content-encoding;host;x-amz-content-sha256;x-amz-date;x-amz-decoded-content-length, Signature=${SEED}`,
  };
}

function chunkedBody(pieces: Buffer[], signatures: (string | undefined)[]): Buffer {
  const parts: Buffer[] = [];
  pieces.forEach((piece, i) => {
    const sig = signatures[i];
    parts.push(Buffer.from(`${piece.length.toString(16)}${sig ? `;chunk-signature=${sig}` : ''}\r\n`), piece, Buffer.from('\r\n'));
  });
  return Buffer.concat(parts);
}

/** The body in small, uneven pieces, as a socket delivers it. */
function trickle(body: Buffer, size = 1000): Readable {
  const pieces: Buffer[] = [];
  for (let i = 0; i < body.length; i += size) pieces.push(body.subarray(i, i + size));
  return Readable.from(pieces);
}

function signedAuth(headers: Record<string, string>): S3Auth {
  const auth = parseS3Auth({ method: 'PUT', path: '/bucket/big.bin', query: new URLSearchParams(), headers }, opts)!;
  assert.equal(auth.check(SECRET), true);
  return auth;
}

async function drain(body: Readable | undefined): Promise<{ data: Buffer; error?: S3Error }> {
  const chunks: Buffer[] = [];
  try {
    for await (const chunk of body ?? []) chunks.push(chunk as Buffer);
  } catch (err) {
    assert.ok(err instanceof S3Error, `not an S3 error: ${err}`);
    return { data: Buffer.concat(chunks), error: err };
  }
  return { data: Buffer.concat(chunks) };
}

function prepared(headers: Record<string, string>, body: Buffer | undefined, auth?: S3Auth, method = 'PUT') {
  const req: PayloadRequest = { method, query: new URLSearchParams(), headers, body: body ? trickle(body) : undefined };
  return preparePayload(req, auth ?? signedAuth(headers));
}

describe('aws-chunked with chunk signatures', () => {
  const goodBody = () => chunkedBody([DATA.subarray(0, 65536), DATA.subarray(65536), Buffer.alloc(0)], CHUNK_SIGNATURES);

  test('decodes to the payload, every chunk signature checked', async () => {
    const headers = chunkedHeaders();
    const payload = prepared(headers, goodBody());
    assert.equal(payload.contentLength, String(DATA.length));
    const { data, error } = await drain(payload.body);
    assert.equal(error, undefined);
    assert.ok(data.equals(DATA));
  });

  test('a changed byte fails that chunk and the payload never completes', async () => {
    const body = goodBody();
    body[70000] ^= 1; // inside the second chunk's data
    const payload = prepared(chunkedHeaders(), body);
    const { data, error } = await drain(payload.body);
    assert.equal(error?.code, 'SignatureDoesNotMatch');
    assert.ok(data.length < DATA.length);
    assert.equal(payload.failure()?.code, 'SignatureDoesNotMatch');
  });

  test('a wrong signature on the final empty chunk holds back the last bytes', async () => {
    const payload = prepared(chunkedHeaders(), chunkedBody([DATA.subarray(0, 65536), DATA.subarray(65536), Buffer.alloc(0)], [...CHUNK_SIGNATURES.slice(0, 2), '0'.repeat(64)]));
    const { data, error } = await drain(payload.body);
    assert.equal(error?.code, 'SignatureDoesNotMatch');
    assert.ok(data.length < DATA.length);
  });

  test('a truncated body is IncompleteBody', async () => {
    const body = goodBody();
    const { error, data } = await drain(prepared(chunkedHeaders(), body.subarray(0, 40000)).body);
    assert.equal(error?.code, 'IncompleteBody');
    assert.ok(data.length < DATA.length);
  });

  test('without the secret the chunks cannot be checked: NotImplemented, as Swift', async () => {
    const headers = chunkedHeaders();
    const auth = parseS3Auth({ method: 'PUT', path: '/bucket/big.bin', query: new URLSearchParams(), headers }, opts)!;
    const { error } = await drain(prepared(headers, goodBody(), auth).body);
    assert.equal(error?.code, 'NotImplemented');
  });

  test('streaming without x-amz-decoded-content-length is MissingContentLength', () => {
    const headers = chunkedHeaders();
    delete headers['x-amz-decoded-content-length'];
    const auth = parseS3Auth({ method: 'PUT', path: '/bucket/big.bin', query: new URLSearchParams(), headers: { ...headers, 'x-amz-decoded-content-length': '1' } }, opts)!;
    assert.throws(() => preparePayload({ method: 'PUT', query: new URLSearchParams(), headers, body: trickle(goodBody()) }, auth), (e: S3Error) => e.code === 'MissingContentLength');
  });
});

describe('aws-chunked without signatures, with a checksum trailer', () => {
  const headers = (): Record<string, string> => ({
    host: 'x',
    'content-encoding': 'aws-chunked',
    'x-amz-content-sha256': 'STREAMING-UNSIGNED-PAYLOAD-TRAILER',
    'x-amz-decoded-content-length': String(DATA.length),
    'x-amz-trailer': 'x-amz-checksum-crc32',
    'x-amz-date': '20240506T070809Z',
    authorization: 'AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240506/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=abc',
  });
  const auth = () => parseS3Auth({ method: 'PUT', path: '/b/k', query: new URLSearchParams(), headers: headers() }, opts)!;
  const body = (crc: string) => Buffer.concat([
    Buffer.from(`${(65536).toString(16)}\r\n`), DATA.subarray(0, 65536), Buffer.from('\r\n'),
    Buffer.from(`${(4464).toString(16)}\r\n`), DATA.subarray(65536), Buffer.from('\r\n'),
    Buffer.from(`0\r\nx-amz-checksum-crc32:${crc}\r\n\r\n`),
  ]);

  test('decodes and checks the CRC32 from the trailer (Python zlib.crc32)', async () => {
    const { data, error } = await drain(prepared(headers(), body('n+HHwQ=='), auth()).body);
    assert.equal(error, undefined);
    assert.ok(data.equals(DATA));
  });

  test('a wrong CRC32 is BadDigest before the last byte', async () => {
    const { data, error } = await drain(prepared(headers(), body('AAAAAA=='), auth()).body);
    assert.equal(error?.code, 'BadDigest');
    assert.ok(data.length < DATA.length);
  });

  test('a chunk under 8 KiB that is not the last is InvalidChunkSizeError', async () => {
    const small: Record<string, string> = { ...headers(), 'x-amz-decoded-content-length': '20' };
    delete small['x-amz-trailer'];
    const body = Buffer.from('a\r\n0123456789\r\na\r\n0123456789\r\n0\r\n\r\n');
    const { error } = await drain(prepared(small, body, auth()).body);
    assert.equal(error?.code, 'InvalidChunkSizeError');
    assert.equal(error?.details.BadChunkSize, 10);
  });

  test('chunks framed wrongly are IncompleteBody: data not ended by CRLF, a header cut off, anything after the end', async () => {
    const small: Record<string, string> = { ...headers(), 'x-amz-decoded-content-length': '10' };
    delete small['x-amz-trailer'];
    for (const bad of ['a\r\n0123456789zz0\r\n\r\n', 'a\r\n0123456789\r\n0\r', 'a\r\n0123456789\r\n0\r\n\r\nextra']) {
      const { error } = await drain(prepared(small, Buffer.from(bad), auth()).body);
      assert.equal(error?.code, 'IncompleteBody', JSON.stringify(bad));
    }
    const { data, error } = await drain(prepared(small, Buffer.from('a\r\n0123456789\r\n0\r\n\r\n'), auth()).body);
    assert.equal(error, undefined);
    assert.equal(data.toString(), '0123456789');
  });

  test('a trailer that was not announced is MalformedTrailerError', async () => {
    const bad = Buffer.concat([body('n+HHwQ==').subarray(0, -2), Buffer.from('x-amz-other:1\r\n\r\n')]);
    const { error } = await drain(prepared(headers(), bad, auth()).body);
    assert.equal(error?.code, 'MalformedTrailerError');
  });
});

describe('plain bodies', () => {
  const sigv2 = () => parseS3Auth({ method: 'PUT', path: '/b/k', query: new URLSearchParams(), headers: { date: new Date(opts.now).toUTCString(), authorization: 'AWS AK:sig' } }, opts)!;
  const v4Headers = (sha: string, extra: Record<string, string> = {}) => ({
    host: 'x', 'x-amz-date': '20240506T070809Z', 'x-amz-content-sha256': sha, 'content-length': String(DATA.length), ...extra,
    authorization: 'AWS4-HMAC-SHA256 Credential=AK/20240506/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=abc',
  });
  const v4 = (headers: Record<string, string>) => parseS3Auth({ method: 'PUT', path: '/b/k', query: new URLSearchParams(), headers }, opts)!;

  test('x-amz-content-sha256 matching the body passes it through unchanged', async () => {
    const headers = v4Headers('9dc177c2fde29dea8e7c29f7ddf147b7c449c99d049c62f3aac0a5933ecf76a3');
    const { data, error } = await drain(prepared(headers, DATA, v4(headers)).body);
    assert.equal(error, undefined);
    assert.ok(data.equals(DATA));
  });

  test('x-amz-content-sha256 not matching is XAmzContentSHA256Mismatch before the last byte', async () => {
    const headers = v4Headers('0'.repeat(64));
    const { data, error } = await drain(prepared(headers, DATA, v4(headers)).body);
    assert.equal(error?.code, 'XAmzContentSHA256Mismatch');
    assert.equal(error?.details.S3ComputedContentSHA256, '9dc177c2fde29dea8e7c29f7ddf147b7c449c99d049c62f3aac0a5933ecf76a3');
    assert.ok(data.length < DATA.length);
  });

  test('SigV4 in a header requires x-amz-content-sha256, and a sensible one', () => {
    const headers = v4Headers('x');
    delete (headers as Record<string, string>)['x-amz-content-sha256'];
    assert.throws(() => prepared(headers, DATA, v4(headers)), (e: S3Error) => e.code === 'InvalidRequest');
    const silly = v4Headers('not-a-hash');
    assert.throws(() => prepared(silly, DATA, v4(silly)), (e: S3Error) => e.code === 'InvalidArgument');
  });

  test('x-amz-checksum-sha256 and -crc32 headers are checked', async () => {
    const good = { 'content-length': String(DATA.length), 'x-amz-checksum-sha256': 'ncF3wv3ineqOfCn33fFHt8RJyZ0EnGLzqsClkz7PdqM=' };
    assert.equal((await drain(prepared(good, DATA, sigv2()).body)).error, undefined);
    const bad = { 'content-length': String(DATA.length), 'x-amz-checksum-crc32': 'AAAAAA==' };
    assert.equal((await drain(prepared(bad, DATA, sigv2()).body)).error?.code, 'BadDigest');
  });

  test('checksum headers that make no sense are InvalidRequest, unknown algorithms too', () => {
    const auth = sigv2();
    assert.throws(() => prepared({ 'x-amz-checksum-crc32': 'not base64!' }, DATA, auth), (e: S3Error) => e.code === 'InvalidRequest');
    assert.throws(() => prepared({ 'x-amz-checksum-md4': 'AAAA' }, DATA, auth), (e: S3Error) => e.code === 'InvalidRequest');
    assert.throws(() => prepared({ 'x-amz-checksum-crc32': 'n+HHwQ==', 'x-amz-checksum-sha1': 'AAAA' }, DATA, auth), (e: S3Error) => e.code === 'InvalidRequest');
    assert.throws(() => prepared({ 'x-amz-checksum-crc64nvme': 'AAAAAAAAAAA=' }, DATA, auth), (e: S3Error) => e.code === 'NotImplemented');
    assert.throws(() => prepared({ 'x-amz-sdk-checksum-algorithm': 'CRC32' }, DATA, auth), (e: S3Error) => e.code === 'InvalidRequest');
  });

  test('GET and DELETE bodies are not touched', () => {
    const payload = prepared({ 'x-amz-checksum-crc32': 'n+HHwQ==' }, undefined, sigv2(), 'GET');
    assert.equal(payload.body, undefined);
  });
});

test('CRC-32C gives the standard check value', () => {
  const c = checksumFor('x-amz-checksum-crc32c');
  c.update(Buffer.from('1234'));
  c.update(Buffer.from('56789'));
  assert.equal(c.digest().toString('hex'), 'e3069283');
});
