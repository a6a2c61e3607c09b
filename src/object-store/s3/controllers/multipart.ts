// Multipart uploads as Swift's s3api keeps them, in the "<bucket>+segments" container:
//   <key>/<upload id>            the upload's marker (metadata for the final object)
//   <key>/<upload id>/<part>     each part, later a segment of the final object
// Here: CreateMultipartUpload, UploadPart (and UploadPartCopy), ListParts,
// ListMultipartUploads, AbortMultipartUpload; completion is in multipart-complete.ts.
import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { discardBody, type SwiftResponse } from '../../pipeline.ts';
import { parseRangeHeader, rangesForLength } from '../../storage/object/ranges.ts';
import { copySource } from '../copy-source.ts';
import { S3Error, s3Error } from '../errors.ts';
import {
  OBJECT_WRITE_HEADERS, quoteEtag, s3XmlTime, swiftMetadata, SYSMETA_CONTENT_TYPE, SYSMETA_ETAG, SYSMETA_HAS_CONTENT_TYPE, SYSMETA_UPLOAD_ID,
} from '../headers.ts';
import { MULTIUPLOAD_SUFFIX, type ListingEntry, type S3Request } from '../request.ts';
import { emptyResponse, ownerNode, xmlResponse } from '../responses.ts';
import { uriEncode } from '../signature.ts';
import { el, type XmlNode } from '../xml.ts';
import { storeUpload, uploadHeaders } from './object.ts';

const DEFAULT_MAX_UPLOADS = 1000;

/** Swift's unique_id: a random UUID, url-safe base64 encoded. */
function newUploadId(): string {
  return Buffer.from(randomUUID()).toString('base64').replace(/\+/g, '-').replace(/\//g, '_');
}

export const segments = (r: S3Request) => r.bucket + MULTIUPLOAD_SUFFIX;
export const markerName = (r: S3Request, uploadId: string) => `${r.key}/${uploadId}`;

export function uploadIdParam(r: S3Request): string {
  return r.query.get('uploadId') ?? '';
}

/**
 * The upload's marker, or the finished object when the upload was completed already (its
 * sysmeta names the upload); NoSuchUpload when neither.
 */
export async function uploadInfo(r: S3Request, uploadId: string): Promise<{ head: SwiftResponse; isMarker: boolean }> {
  const marker = await r.call('HEAD', { container: segments(r), object: markerName(r, uploadId), accept: [404] });
  discardBody(marker);
  if (marker.status !== 404) return { head: marker, isMarker: true };
  const done = await r.call('HEAD', { container: r.bucket, object: r.key, accept: [404] });
  discardBody(done);
  if (done.status !== 404 && done.headers[SYSMETA_UPLOAD_ID] === uploadId) return { head: done, isMarker: false };
  throw s3Error('NoSuchUpload', { UploadId: uploadId });
}

/** Every stored part of an upload, by part number. */
export async function storedParts(r: S3Request, uploadId: string): Promise<Map<number, ListingEntry>> {
  const prefix = `${markerName(r, uploadId)}/`;
  const parts = new Map<number, ListingEntry>();
  let marker = '';
  for (;;) {
    const page = await r.listing(segments(r), { prefix, delimiter: '/', marker });
    if (page.length === 0) break;
    for (const entry of page) {
      const number = entry.name !== undefined ? entry.name.slice(prefix.length) : '';
      if (/^\d+$/.test(number)) parts.set(Number(number), entry);
    }
    marker = page[page.length - 1]!.name ?? page[page.length - 1]!.subdir ?? '';
  }
  return parts;
}

/** POST /<bucket>/<key>?uploads */
export async function createMultipartUpload(r: S3Request): Promise<SwiftResponse> {
  if (Buffer.byteLength(r.key!) > r.conf.maxObjectNameLength) throw s3Error('KeyTooLongError');
  const bucket = await r.bucketInfo();
  try {
    await r.bucketInfo(segments(r));
  } catch (err) {
    if (!(err instanceof S3Error && err.code === 'NoSuchBucket')) throw err;
    // the parts are as readable and writable as the bucket
    const headers: Record<string, string> = {};
    if (bucket.readAcl) headers['x-container-read'] = bucket.readAcl;
    if (bucket.writeAcl) headers['x-container-write'] = bucket.writeAcl;
    discardBody(await r.call('PUT', { container: segments(r), headers, accept: [202] }));
  }

  const uploadId = newUploadId();
  const headers: Record<string, string> = { ...swiftMetadata(r.headers), 'content-length': '0', 'content-type': 'application/directory' };
  for (const name of OBJECT_WRITE_HEADERS) {
    if (name !== 'content-type' && !name.startsWith('x-delete') && r.headers[name] !== undefined) headers[name] = r.headers[name]!;
  }
  const contentType = r.headers['content-type'];
  headers[SYSMETA_HAS_CONTENT_TYPE] = contentType ? 'yes' : 'no';
  if (contentType) headers[SYSMETA_CONTENT_TYPE] = contentType;
  if (r.headers['content-encoding']) headers['content-encoding'] = r.headers['content-encoding'];
  discardBody(await r.call('PUT', { container: segments(r), object: markerName(r, uploadId), headers, body: Readable.from([]) }));
  return xmlResponse(el('InitiateMultipartUploadResult', [el('Bucket', r.bucket), el('Key', r.key), el('UploadId', uploadId)]));
}

/** PUT /<bucket>/<key>?partNumber=N&uploadId=U, with a body or x-amz-copy-source (UploadPartCopy). */
export async function uploadPart(r: S3Request): Promise<SwiftResponse> {
  if (!r.query.has('uploadId')) throw s3Error('InvalidArgument', { ArgumentName: 'ResourceType', ArgumentValue: 'partNumber' }, 'Unexpected query string parameter');
  await r.bucketInfo();
  const max = r.conf.maxUploadPartNum;
  const text = r.query.get('partNumber') ?? '';
  const part = /^\d+$/.test(text) ? Number(text) : NaN;
  if (!(part >= 1 && part <= max)) {
    throw s3Error('InvalidArgument', { ArgumentName: 'partNumber', ArgumentValue: text }, `Part number must be an integer between 1 and ${max}, inclusive`);
  }
  const uploadId = uploadIdParam(r);
  await uploadInfo(r, uploadId);
  const source = await copySource(r);
  const headers: Record<string, string> = source ? {} : uploadHeaders(r);
  if (source) {
    const range = r.headers['x-amz-copy-source-range'];
    if (range !== undefined) {
      const specs = parseRangeHeader(range);
      if (!specs || specs.length !== 1) {
        throw s3Error('InvalidArgument', { ArgumentName: 'x-amz-source-range', ArgumentValue: range },
          'The x-amz-copy-source-range value must be of the form bytes=first-last where first and last are the zero-based offsets of the first and last bytes to copy');
      }
      const size = Number(source.head.headers['content-length'] ?? 0);
      if (!rangesForLength(specs, size)?.length) {
        throw s3Error('InvalidArgument', { ArgumentName: 'x-amz-source-range', ArgumentValue: range }, `Range specified is not valid for source object of size: ${size}`);
      }
      headers.range = range;
    }
    Object.assign(headers, {
      'x-copy-from': source.copyFrom,
      'content-length': '0',
      // a part is plain data whatever the source was
      [SYSMETA_ETAG]: '',
      'x-object-sysmeta-slo-etag': '',
      'x-object-sysmeta-slo-size': '',
    });
  }
  return storeUpload(r, segments(r), `${markerName(r, uploadId)}/${part}`, headers, source ? 'CopyPartResult' : undefined);
}

/** GET /<bucket>/<key>?uploadId=U (ListParts) */
export async function listParts(r: S3Request): Promise<SwiftResponse> {
  await r.bucketInfo();
  const encodingType = r.encodingType();
  const uploadId = uploadIdParam(r);
  await uploadInfo(r, uploadId);
  const maxParts = r.intParam('max-parts', 1000, r.conf.maxPartsListing);
  const marker = r.intParam('part-number-marker', 0);

  const all = [...(await storedParts(r, uploadId))].filter(([n]) => n > marker).sort(([a], [b]) => a - b);
  const truncated = all.length > maxParts;
  const shown = all.slice(0, maxParts);
  const nodes: XmlNode[] = [
    el('Bucket', r.bucket),
    el('Key', encodingType === 'url' ? uriEncode(r.key!, true) : r.key),
    el('UploadId', uploadId),
    ownerNode('Initiator', r.userId),
    ownerNode('Owner', r.userId),
    el('StorageClass', 'STANDARD'),
    el('PartNumberMarker', marker),
    el('NextPartNumberMarker', shown.length ? shown[shown.length - 1]![0] : 0),
    el('MaxParts', maxParts),
  ];
  if (encodingType) nodes.push(el('EncodingType', encodingType));
  nodes.push(el('IsTruncated', truncated ? 'true' : 'false'));
  for (const [number, entry] of shown) {
    nodes.push(el('Part', [el('PartNumber', number), el('LastModified', s3XmlTime(entry.last_modified)), el('ETag', quoteEtag(entry.hash ?? '')), el('Size', entry.bytes ?? 0)]));
  }
  return xmlResponse(el('ListPartsResult', nodes));
}

/** GET /<bucket>?uploads (ListMultipartUploads) */
export async function listMultipartUploads(r: S3Request): Promise<SwiftResponse> {
  if (r.key !== undefined) throw s3Error('InvalidRequest', {}, 'Key is not expected for the GET method ?uploads subresource');
  await r.bucketInfo();
  const encodingType = r.encodingType();
  const keyMarker = r.query.get('key-marker') ?? '';
  const uploadIdMarker = r.query.get('upload-id-marker') ?? '';
  const prefix = r.query.get('prefix') ?? '';
  const delimiter = r.query.get('delimiter');
  const maxUploads = r.intParam('max-uploads', DEFAULT_MAX_UPLOADS, DEFAULT_MAX_UPLOADS);

  const query: Record<string, string> = { marker: keyMarker && uploadIdMarker ? `${keyMarker}/${uploadIdMarker}` : keyMarker ? `${keyMarker}/~` : '' };
  if (r.query.has('prefix')) query.prefix = prefix;
  const uploads: { key: string; uploadId: string; lastModified?: string }[] = [];
  const prefixes = new Set<string>();
  while (uploads.length < maxUploads) {
    let page: ListingEntry[];
    try {
      page = await r.listing(segments(r), query);
    } catch (err) {
      if (err instanceof S3Error && err.code === 'NoSuchBucket') break;
      throw err;
    }
    if (page.length === 0) break;
    for (const entry of page) {
      const name = entry.name;
      // markers only: <key>/<upload id>, not <key>/<upload id>/<part>
      if (name === undefined || /\/\d+$/.test(name)) continue;
      const slash = name.lastIndexOf('/');
      const upload = { key: name.slice(0, slash), uploadId: name.slice(slash + 1), lastModified: entry.last_modified };
      const end = delimiter ? upload.key.indexOf(delimiter, prefix.length) : -1;
      if (delimiter && end >= 0) prefixes.add(upload.key.slice(0, end + delimiter.length));
      else uploads.push(upload);
    }
    query.marker = page[page.length - 1]!.name ?? '';
  }
  const truncated = uploads.length >= maxUploads;
  const shown = uploads.slice(0, maxUploads);
  const last = shown[shown.length - 1];
  const encode = (text: string) => (encodingType === 'url' ? uriEncode(text, true) : text);
  const nodes: XmlNode[] = [
    el('Bucket', r.bucket),
    el('KeyMarker', keyMarker),
    el('UploadIdMarker', uploadIdMarker),
    el('NextKeyMarker', last ? encode(last.key) : ''),
    el('NextUploadIdMarker', last?.uploadId ?? ''),
  ];
  if (delimiter !== null) nodes.push(el('Delimiter', delimiter));
  if (r.query.has('prefix')) nodes.push(el('Prefix', prefix));
  nodes.push(el('MaxUploads', maxUploads));
  if (encodingType) nodes.push(el('EncodingType', encodingType));
  nodes.push(el('IsTruncated', truncated ? 'true' : 'false'));
  for (const u of shown) {
    nodes.push(el('Upload', [
      el('Key', encode(u.key)),
      el('UploadId', u.uploadId),
      ownerNode('Initiator', r.userId),
      ownerNode('Owner', r.userId),
      el('StorageClass', 'STANDARD'),
      el('Initiated', s3XmlTime(u.lastModified)),
    ]));
  }
  for (const p of [...prefixes].sort()) nodes.push(el('CommonPrefixes', [el('Prefix', encode(p))]));
  return xmlResponse(el('ListMultipartUploadsResult', nodes));
}

/** DELETE /<bucket>/<key>?uploadId=U (AbortMultipartUpload): the marker and every part. */
export async function abortMultipartUpload(r: S3Request): Promise<SwiftResponse> {
  await r.bucketInfo();
  const uploadId = uploadIdParam(r);
  await uploadInfo(r, uploadId);
  discardBody(await r.call('DELETE', { container: segments(r), object: markerName(r, uploadId), accept: [404] }));
  for (const entry of (await storedParts(r, uploadId)).values()) {
    discardBody(await r.call('DELETE', { container: segments(r), object: entry.name, accept: [404] }));
  }
  return emptyResponse(204);
}

