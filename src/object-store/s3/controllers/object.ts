// Objects: GetObject, HeadObject, PutObject, CopyObject, DeleteObject (Swift's s3api
// ObjectController). Bodies stream through untouched in both directions.
import { discardBody, readBody, type SwiftResponse } from '../../pipeline.ts';
import { isTrue } from '../../storage/header-families.ts';
import { contentRange, parseRangeHeader, rangesForLength } from '../../storage/object/ranges.ts';
import { etagConditions } from '../conditions.ts';
import { copySource } from '../copy-source.ts';
import { S3Error, s3Error } from '../errors.ts';
import { OBJECT_WRITE_HEADERS, quoteEtag, s3Headers, s3XmlTime, swiftMetadata, SYSMETA_ETAG } from '../headers.ts';
import type { S3Request } from '../request.ts';
import { emptyResponse, xmlResponse } from '../responses.ts';
import { el } from '../xml.ts';

const RESPONSE_OVERRIDES = ['content-type', 'content-language', 'expires', 'cache-control', 'content-disposition', 'content-encoding'];

/** ?partNumber=N of a GET or HEAD (Swift's validate_part_number); undefined without one. */
export function partNumberParam(r: S3Request, partsCount?: number): number | undefined {
  const text = r.query.get('partNumber');
  if (text === null) return undefined;
  if (r.headers.range !== undefined) throw s3Error('InvalidRequest', {}, 'Cannot specify both Range header and partNumber query parameter');
  const max = Math.max(r.conf.maxUploadPartNum, partsCount ?? 0);
  const part = /^\d+$/.test(text) ? Number(text) : NaN;
  if (!(part >= 1) || part > max) {
    throw s3Error('InvalidArgument', { ArgumentName: 'partNumber', ArgumentValue: text }, `Part number must be an integer between 1 and ${max}, inclusive`);
  }
  return part;
}

async function getOrHead(r: S3Request): Promise<SwiftResponse> {
  // ETag conditions are judged here, against the S3 ETag (see conditions.ts)
  const headers: Record<string, string> = {};
  for (const name of ['range', 'if-modified-since', 'if-unmodified-since']) {
    if (r.headers[name] !== undefined) headers[name] = r.headers[name]!;
  }
  const version = r.query.get('versionId');
  if (version !== null && version !== 'null') throw s3Error('NotImplemented');
  const part = partNumberParam(r);
  const query: Record<string, string> = {};
  if (part !== undefined) query['part-number'] = String(part);

  const res = await r.call(r.method, { container: r.bucket, object: r.key, headers, query });
  const out = s3Headers(res.headers);
  let status = res.status;
  const unmet = status < 300 ? etagConditions({ ifMatch: r.headers['if-match'], ifNoneMatch: r.headers['if-none-match'] }, out.etag ?? '') : undefined;
  if (unmet === 412) {
    discardBody(res);
    throw s3Error('PreconditionFailed');
  }
  if (unmet === 304) {
    discardBody(res);
    delete out['content-length'];
    delete out['content-range'];
    return { status: 304, headers: out };
  }
  if (part !== undefined && !isTrue(res.headers['x-static-large-object'])) {
    // a plain object has one part
    if (part !== 1) {
      discardBody(res);
      throw s3Error('InvalidPartNumber');
    }
    const length = Number(res.headers['content-length'] ?? 0);
    status = 206;
    out['content-range'] = `bytes 0-${length - 1}/${length}`;
  }
  for (const name of RESPONSE_OVERRIDES) {
    const value = r.query.get(`response-${name}`);
    if (value !== null) out[name] = value;
  }
  return { status, headers: out, body: r.method === 'HEAD' ? (discardBody(res), undefined) : res.body };
}

export const getObject = getOrHead;

/** HEAD with a Range: Swift's object server ignores it, S3 answers as a GET would, without the body. */
export async function headObject(r: S3Request): Promise<SwiftResponse> {
  const res = await getOrHead(r);
  const range = r.headers.range;
  if (range === undefined || res.status !== 200) return res;
  const length = Number(res.headers['content-length'] ?? 0);
  const ranges = rangesForLength(parseRangeHeader(range), length);
  if (ranges === undefined || ranges.length > 1) return res;
  if (ranges.length === 0) throw s3Error('InvalidRange');
  const [one] = ranges;
  return { ...res, status: 206, headers: { ...res.headers, 'content-range': contentRange(one!, length), 'content-length': String(one!.end - one!.start) } };
}

export async function putObject(r: S3Request): Promise<SwiftResponse> {
  if (Buffer.byteLength(r.key!) > r.conf.maxObjectNameLength) throw s3Error('KeyTooLongError');
  const copying = r.headers['x-amz-copy-source'] !== undefined;
  if (copying && r.headers['x-amz-copy-source-range'] !== undefined) {
    throw s3Error('InvalidArgument', { ArgumentName: 'x-amz-copy-source-range', ArgumentValue: r.headers['x-amz-copy-source-range'] }, 'Illegal copy header');
  }
  if (copying && r.headers.range !== undefined) {
    throw s3Error('InvalidArgument', { ArgumentName: 'Range', ArgumentValue: r.headers.range }, 'RANGE is not supported in Copy!');
  }
  const source = await copySource(r);
  const replace = r.headers['x-amz-metadata-directive'] === 'REPLACE';
  if (source && source.bucket === r.bucket && source.key === r.key && !replace) {
    throw s3Error('InvalidRequest', {}, "This copy request is illegal because it is trying to copy an object to itself without changing the object's metadata, storage class, website redirect location or encryption attributes.");
  }

  const headers: Record<string, string> = {};
  if (!source || replace) {
    for (const name of OBJECT_WRITE_HEADERS) if (r.headers[name] !== undefined) headers[name] = r.headers[name]!;
    Object.assign(headers, swiftMetadata(r.headers));
    headers['content-type'] ||= 'binary/octet-stream';
  } else {
    for (const name of ['x-delete-at', 'x-delete-after']) if (r.headers[name] !== undefined) headers[name] = r.headers[name]!;
  }
  if (r.headers['if-none-match'] === '*') headers['if-none-match'] = '*';
  if (source) {
    headers['x-copy-from'] = source.copyFrom;
    headers['content-length'] = '0';
    if (replace) headers['x-fresh-metadata'] = 'True';
    // a copy of a multipart upload is one plain object: its S3 ETag is its MD5
    headers[SYSMETA_ETAG] = '';
  } else {
    Object.assign(headers, uploadHeaders(r));
    const encoding = (r.headers['content-encoding'] ?? '').split(',').map((e) => e.trim()).filter((e) => e && e !== 'aws-chunked');
    if (encoding.length) headers['content-encoding'] = encoding.join(', ');
  }
  return storeUpload(r, r.bucket!, r.key!, headers, source ? 'CopyObjectResult' : undefined);
}

/** What a PUT of the client's body says of it: its length (or that it is chunked) and the MD5 it promised, as the ETag to check. */
export function uploadHeaders(r: S3Request): Record<string, string> {
  const headers: Record<string, string> = {};
  if (r.payload.contentLength !== undefined) headers['content-length'] = r.payload.contentLength;
  else if (r.headers['transfer-encoding'] !== undefined) headers['transfer-encoding'] = r.headers['transfer-encoding'];
  if (r.headers['content-md5'] !== undefined) headers.etag = Buffer.from(r.headers['content-md5'], 'base64').toString('hex');
  return headers;
}

/**
 * PUTs an object or part: the client's body, or (with `copyResult`, the name of the answer's
 * root) a copy the headers ask for. Answered as S3 answers: the ETag, or the copy's result.
 */
export async function storeUpload(
  r: S3Request,
  container: string,
  object: string,
  headers: Record<string, string>,
  copyResult?: 'CopyObjectResult' | 'CopyPartResult',
): Promise<SwiftResponse> {
  const res = await r.call('PUT', { container, object, headers, body: copyResult ? undefined : r.payload.body });
  discardBody(res);
  const etag = quoteEtag(res.headers.etag ?? '');
  if (copyResult) return xmlResponse(el(copyResult, [el('LastModified', s3XmlTime(res.headers['last-modified'])), el('ETag', etag)]));
  return emptyResponse(200, { etag });
}

export async function deleteObject(r: S3Request): Promise<SwiftResponse> {
  const version = r.query.get('versionId');
  if (version !== null && version !== 'null') throw s3Error('NotImplemented');
  const gone = await deleteKey(r, r.bucket!, r.key!);
  if (gone === 'no-such-key') await r.bucketInfo(); // NoSuchBucket when the bucket is missing
  return emptyResponse(204);
}

/**
 * Deletes one key; a multipart upload (an SLO manifest) goes with its parts. Shared with
 * DeleteObjects. 'no-such-key' when there was nothing to delete.
 */
export async function deleteKey(r: S3Request, bucket: string, key: string): Promise<'deleted' | 'no-such-key'> {
  const head = await r.call('HEAD', { container: bucket, object: key, query: { symlink: 'get' }, accept: [404] });
  discardBody(head);
  const query: Record<string, string> = head.status !== 404 && isTrue(head.headers['x-static-large-object']) ? { 'multipart-manifest': 'delete' } : {};
  const res = await r.call('DELETE', { container: bucket, object: key, query, headers: { accept: 'application/json' }, accept: [404] });
  if (res.status === 404) {
    discardBody(res);
    return 'no-such-key';
  }
  if (query['multipart-manifest'] && res.status === 200) {
    // SLO's bulk-delete report: parts it could not delete are an error (Swift's SLODeleteError)
    let report: { Errors?: [string, string][]; 'Response Status'?: string };
    try {
      report = JSON.parse((await readBody(res.body, 1024 * 1024)).toString('utf8'));
    } catch {
      throw new S3Error('SLODeleteError', 'Unexpected swift response', {}, 500);
    }
    if (report.Errors?.length) {
      throw new S3Error('SLODeleteError', [report['Response Status'], ...report.Errors.map(([name, status]) => `${name}: ${status}`)].join('\n'), {}, 500);
    }
  } else {
    discardBody(res);
  }
  return 'deleted';
}
