// CompleteMultipartUpload: the object becomes an SLO manifest of the upload's parts, its S3
// ETag (MD5 of the parts' MD5s, "-<count>") in sysmeta; the marker goes, the parts stay as
// the large object's segments.
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { discardBody, readBody, type SwiftResponse } from '../../pipeline.ts';
import { errorBody, S3Error, s3Error } from '../errors.ts';
import { unquoteEtag } from '../../storage/object/conditional.ts';
import { quoteEtag, SYSMETA_CONTENT_TYPE, SYSMETA_ETAG, SYSMETA_HAS_CONTENT_TYPE, SYSMETA_UPLOAD_ID } from '../headers.ts';
import { requestXml, type S3Request } from '../request.ts';
import { xmlResponse } from '../responses.ts';
import { child, children, el, xmlDocument } from '../xml.ts';
import { markerName, segments, storedParts, uploadIdParam, uploadInfo } from './multipart.ts';

const MAX_COMPLETE_UPLOAD_BODY_SIZE = 2048 * 1024;

interface RequestedPart {
  number: number;
  etag: string;
}

function parseComplete(body: Buffer, uploadId: string): RequestedPart[] {
  const elements = children(requestXml(body, 'CompleteMultipartUpload', 'MalformedXML'), 'Part');
  if (elements.length === 0) throw s3Error('MalformedXML');
  let previous = 0;
  return elements.map((p) => {
    const numberText = child(p, 'PartNumber')?.text.trim() ?? '';
    if (!/^\d+$/.test(numberText)) throw s3Error('MalformedXML');
    const number = Number(numberText);
    if (number <= previous) throw s3Error('InvalidPartOrder', { UploadId: uploadId });
    previous = number;
    const etag = unquoteEtag((child(p, 'ETag')?.text ?? '').trim());
    if (!/^[0-9a-f]{32}$/.test(etag)) throw s3Error('InvalidPart', { UploadId: uploadId, PartNumber: number, ETag: etag });
    return { number, etag };
  });
}

/** POST /<bucket>/<key>?uploadId=U (CompleteMultipartUpload) */
export async function completeMultipartUpload(r: S3Request): Promise<SwiftResponse> {
  const uploadId = uploadIdParam(r);
  const h = r.headers;
  if ((h['if-none-match'] ?? '*') !== '*' || h['if-match'] !== undefined || h['if-modified-since'] !== undefined || h['if-unmodified-since'] !== undefined) {
    throw s3Error('NotImplemented', {}, 'Conditional uploads are not supported.');
  }
  await r.bucketInfo();
  const { head, isMarker } = await uploadInfo(r, uploadId);

  const body = await r.smallBody(MAX_COMPLETE_UPLOAD_BODY_SIZE);
  if (!body) throw s3Error('InvalidRequest', {}, 'You must specify at least one part');
  const md5 = h['content-md5'];
  if (md5 !== undefined && createHash('md5').update(body).digest('base64') !== md5) throw s3Error('BadDigest', { ExpectedDigest: md5 });
  const requested = parseComplete(body, uploadId);

  const etagHash = createHash('md5');
  for (const p of requested) etagHash.update(Buffer.from(p.etag, 'hex'));
  const s3Etag = `${etagHash.digest('hex')}-${requested.length}`;
  const location = `http://${h.host ?? 'localhost'}/${encodeURIComponent(r.bucket!)}/${r.key!.split('/').map(encodeURIComponent).join('/')}`;
  const result = () => el('CompleteMultipartUploadResult', [el('Location', location), el('Bucket', r.bucket), el('Key', r.key), el('ETag', quoteEtag(s3Etag))]);
  if (!isMarker) {
    // completed before: the same parts again is the same success, anything else a stale id
    if (head.headers[SYSMETA_ETAG] === s3Etag) return xmlResponse(result());
    throw s3Error('NoSuchUpload', { UploadId: uploadId });
  }

  const work = writeManifest(r, uploadId, head, requested, s3Etag);
  // Checking and writing a thousand parts takes a while: past heartbeatMs the answer starts
  // (200) and whitespace keeps the connection alive until the outcome, as Swift's s3api does.
  let timer: NodeJS.Timeout | undefined;
  const early = await Promise.race([
    work.then(() => 'done' as const, (err: unknown) => ({ err })),
    new Promise<'late'>((resolve) => { timer = setTimeout(() => resolve('late'), r.conf.heartbeatMs); }),
  ]);
  clearTimeout(timer);
  if (early === 'done') return xmlResponse(result());
  if (early !== 'late') throw early.err;
  return {
    status: 200,
    headers: { 'content-type': 'application/xml' },
    body: Readable.from(heartbeat(work, () => xmlDocument(result()), r)),
  };
}

async function* heartbeat(work: Promise<void>, success: () => string, r: S3Request): AsyncGenerator<Buffer> {
  yield Buffer.from('<?xml version="1.0" encoding="UTF-8"?>\n');
  let outcome: { err?: unknown } | undefined;
  const settled = work.then(() => { outcome = {}; }, (err: unknown) => { outcome = { err }; });
  while (!outcome) {
    await Promise.race([settled, new Promise((resolve) => setTimeout(resolve, r.conf.heartbeatMs).unref())]);
    if (!outcome) yield Buffer.from(' ');
  }
  const { err } = outcome as { err?: unknown };
  const text = err === undefined ? success() : errorBody(err instanceof S3Error ? err : new S3Error('InternalError'), r.resource, r.client.env.transId);
  // the declaration went out first; the document follows without it
  yield Buffer.from(text.replace(/^<\?xml[^>]*\?>\n?/, ''));
}

/** Checks the requested parts against the stored ones, writes the SLO manifest, removes the marker. */
async function writeManifest(r: S3Request, uploadId: string, marker: SwiftResponse, requested: RequestedPart[], s3Etag: string): Promise<void> {
  const stored = await storedParts(r, uploadId);
  requested.forEach((p, i) => {
    const part = stored.get(p.number);
    if (!part || unquoteEtag(part.hash ?? '') !== p.etag) throw s3Error('InvalidPart', { UploadId: uploadId, PartNumber: p.number, ETag: p.etag });
    if (i < requested.length - 1 && (part.bytes ?? 0) < r.conf.minSegmentSize) {
      throw s3Error('EntityTooSmall', { ProposedSize: part.bytes ?? 0, MinSizeAllowed: r.conf.minSegmentSize, PartNumber: p.number, ETag: p.etag });
    }
  });
  const manifest = requested.map((p) => ({
    path: `/${segments(r)}/${markerName(r, uploadId)}/${p.number}`,
    etag: p.etag,
    size_bytes: stored.get(p.number)!.bytes ?? 0,
  }));

  const headers: Record<string, string> = {
    accept: 'application/json',
    [SYSMETA_UPLOAD_ID]: uploadId,
    [SYSMETA_ETAG]: s3Etag,
    // listings show the S3 ETag (Swift's s3api keeps it beside SLO's in the container row)
    'x-backend-container-update-override-etag': `; s3_etag=${s3Etag}`,
  };
  for (const [name, value] of Object.entries(marker.headers)) {
    if (name.startsWith('x-object-meta-') || ['content-encoding', 'content-language', 'content-disposition', 'expires', 'cache-control'].includes(name)) headers[name] = value;
  }
  const hasType = marker.headers[SYSMETA_HAS_CONTENT_TYPE];
  if (hasType === 'yes') headers['content-type'] = marker.headers[SYSMETA_CONTENT_TYPE] ?? '';
  else if (hasType === undefined && marker.headers['content-type']) headers['content-type'] = marker.headers['content-type'];
  const text = Buffer.from(JSON.stringify(manifest));
  headers['content-length'] = String(text.length);

  const res = await r.call('PUT', { container: r.bucket, object: r.key, query: { 'multipart-manifest': 'put' }, headers, body: Readable.from([text]), accept: [400] });
  if (res.status === 400) {
    const report = (await readBody(res.body, 1024 * 1024).catch(() => Buffer.alloc(0))).toString('utf8');
    if (/Etag Mismatch|404 Not Found|Size Mismatch/.test(report)) throw s3Error('InvalidPart', { UploadId: uploadId });
    throw s3Error('InvalidRequest', {}, report || undefined);
  }
  discardBody(res);
  discardBody(await r.call('DELETE', { container: segments(r), object: markerName(r, uploadId), accept: [404] }));
}
