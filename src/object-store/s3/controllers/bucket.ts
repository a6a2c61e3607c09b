// Buckets are containers of the caller's account: CreateBucket, HeadBucket, DeleteBucket,
// ListObjects (v1) and ListObjectsV2, GetBucketLocation (Swift's s3api BucketController and
// LocationController).
import { discardBody, type SwiftResponse } from '../../pipeline.ts';
import { S3Error, s3Error } from '../errors.ts';
import { s3XmlTime } from '../headers.ts';
import { MULTIUPLOAD_SUFFIX, requestXml, type ListingEntry, type S3Request } from '../request.ts';
import { emptyResponse, ownerNode, xmlResponse } from '../responses.ts';
import { uriEncode } from '../signature.ts';
import { child, el, type XmlNode } from '../xml.ts';
import { cannedAclHeaders } from './acl.ts';

const MAX_PUT_BUCKET_BODY_SIZE = 10240;

export async function headBucket(r: S3Request): Promise<SwiftResponse> {
  discardBody(await r.call('HEAD', { container: r.bucket }));
  return emptyResponse(200, { 'x-amz-bucket-region': r.conf.location });
}

export async function createBucket(r: S3Request): Promise<SwiftResponse> {
  const body = await r.smallBody(MAX_PUT_BUCKET_BODY_SIZE);
  if (body) {
    const location = child(requestXml(body, 'CreateBucketConfiguration', 'MalformedXML'), 'LocationConstraint')?.text;
    if (location !== undefined && location !== r.conf.location && location !== r.conf.location.toLowerCase()) throw s3Error('InvalidLocationConstraint');
  }
  const headers = cannedAclHeaders(r.headers['x-amz-acl']);
  try {
    discardBody(await r.call('PUT', { container: r.bucket, headers }));
  } catch (err) {
    if (err instanceof S3Error && err.code === 'BucketAlreadyOwnedByYou') throw await alreadyThere(r);
    throw err;
  }
  return emptyResponse(200, { location: `/${r.bucket}` });
}

/**
 * Which "already there" error a bucket that exists gets: a bucket created through Swift's
 * s3api with S3 ACLs records its owner; one owned by someone else is BucketAlreadyExists.
 */
async function alreadyThere(r: S3Request): Promise<S3Error> {
  const info = await r.bucketInfo();
  let owner: string | undefined;
  try {
    owner = JSON.parse(info.sysmeta['s3api-acl'] ?? '{}')?.Owner;
  } catch {
    owner = undefined;
  }
  return owner === undefined || owner === r.userId ? s3Error('BucketAlreadyOwnedByYou', { BucketName: r.bucket }) : s3Error('BucketAlreadyExists', { BucketName: r.bucket });
}

export async function deleteBucket(r: S3Request): Promise<SwiftResponse> {
  const head = await r.call('HEAD', { container: r.bucket });
  discardBody(head);
  if (Number(head.headers['x-container-object-count'] ?? 0) > 0) throw s3Error('BucketNotEmpty');
  await deleteSegmentsContainer(r);
  discardBody(await r.call('DELETE', { container: r.bucket }));
  return emptyResponse(204);
}

/** Leftover parts of abandoned multipart uploads go with their bucket. */
async function deleteSegmentsContainer(r: S3Request): Promise<void> {
  const container = r.bucket + MULTIUPLOAD_SUFFIX;
  let marker = '';
  try {
    for (;;) {
      const page = await r.listing(container, { marker });
      if (page.length === 0) break;
      for (const item of page) {
        if (item.name === undefined) continue;
        discardBody(await r.call('DELETE', { container, object: item.name, accept: [404] }));
      }
      marker = page[page.length - 1]!.name ?? '';
    }
    discardBody(await r.call('DELETE', { container, accept: [404] }));
  } catch (err) {
    if (err instanceof S3Error && err.code === 'NoSuchBucket') return;
    if (err instanceof S3Error && (err.code === 'BucketNotEmpty' || err.code === 'InternalError')) throw s3Error('ServiceUnavailable');
    throw err;
  }
}

export async function getBucketLocation(r: S3Request): Promise<SwiftResponse> {
  discardBody(await r.call('HEAD', { container: r.bucket }));
  // us-east-1 is said by saying nothing, as AWS does
  return xmlResponse(el('LocationConstraint', r.conf.location === 'us-east-1' ? undefined : r.conf.location));
}

export async function getBucketVersioning(r: S3Request): Promise<SwiftResponse> {
  discardBody(await r.call('HEAD', { container: r.bucket }));
  return xmlResponse(el('VersioningConfiguration'));
}

/** ListObjects and ListObjectsV2 (list-type=2). */
export async function listObjects(r: S3Request): Promise<SwiftResponse> {
  const q = r.query;
  const tagMaxKeys = r.intParam('max-keys', r.conf.maxBucketListing);
  const maxKeys = Math.min(tagMaxKeys, r.conf.maxBucketListing);
  const encodingType = r.encodingType();
  const encode = (text: string) => (encodingType === 'url' ? uriEncode(text, true) : text);
  const listType = q.get('list-type') ?? '1';
  if (!/^\s*\d+\s*$/.test(listType)) throw s3Error('InvalidArgument', { ArgumentName: 'list-type', ArgumentValue: listType }, 'Argument list-type must be an integer');
  const v2 = Number(listType) === 2;

  // one more than asked, to know whether the answer is truncated
  const query: Record<string, string> = { limit: String(maxKeys + 1) };
  if (q.has('prefix')) query.prefix = q.get('prefix')!;
  if (q.has('delimiter')) query.delimiter = q.get('delimiter')!;
  let fetchOwner = false;
  if (v2) {
    if (q.has('start-after')) query.marker = q.get('start-after')!;
    const token = q.get('continuation-token');
    if (token !== null) {
      const decoded = /^[A-Za-z0-9+/]*={0,2}$/.test(token) && token.length % 4 === 0 ? Buffer.from(token, 'base64').toString('utf8') : undefined;
      if (decoded === undefined || decoded.includes('\ufffd')) {
        throw s3Error('InvalidArgument', { ArgumentName: 'continuation-token', ArgumentValue: token }, 'The continuation token provided is incorrect');
      }
      query.marker = decoded;
    }
    fetchOwner = ['true', '1', 'yes', 'on'].includes((q.get('fetch-owner') ?? '').toLowerCase());
  } else if (q.has('marker')) {
    query.marker = q.get('marker')!;
  }

  let entries: ListingEntry[] = await r.listing(r.bucket!, query);
  const truncated = maxKeys > 0 && entries.length > maxKeys;
  entries = entries.slice(0, maxKeys);
  const last = entries[entries.length - 1];
  const lastName = last ? last.name ?? last.subdir ?? '' : '';

  const nodes: XmlNode[] = [el('Name', r.bucket), el('Prefix', q.has('prefix') ? encode(q.get('prefix')!) : undefined)];
  if (v2) {
    if (truncated) nodes.push(el('NextContinuationToken', Buffer.from(lastName, 'utf8').toString('base64')));
    if (q.has('continuation-token')) nodes.push(el('ContinuationToken', q.get('continuation-token')!));
    if (q.has('start-after')) nodes.push(el('StartAfter', encode(q.get('start-after')!)));
    nodes.push(el('KeyCount', entries.length));
  } else {
    nodes.push(el('Marker', q.has('marker') ? encode(q.get('marker')!) : undefined));
    if (truncated && q.has('delimiter')) nodes.push(el('NextMarker', encode(lastName)));
  }
  nodes.push(el('MaxKeys', tagMaxKeys));
  if (q.get('delimiter')) nodes.push(el('Delimiter', encode(q.get('delimiter')!)));
  if (encodingType === 'url') nodes.push(el('EncodingType', 'url'));
  nodes.push(el('IsTruncated', truncated ? 'true' : 'false'));

  for (const entry of entries) {
    if (entry.subdir !== undefined) {
      nodes.push(el('CommonPrefixes', [el('Prefix', encode(entry.subdir))]));
      continue;
    }
    const contents: XmlNode[] = [
      el('Key', encode(entry.name ?? '')),
      el('LastModified', s3XmlTime(entry.last_modified)),
      el('ETag', listingEtag(entry)),
      el('Size', entry.bytes ?? 0),
    ];
    if (fetchOwner || !v2) contents.push(ownerNode('Owner', r.userId));
    contents.push(el('StorageClass', 'STANDARD'));
    nodes.push(el('Contents', contents));
  }
  return xmlResponse(el('ListBucketResult', nodes));
}

/** The S3 ETag of a listed object: a multipart upload's own, an SLO's marked -N, else the MD5. */
function listingEtag(entry: ListingEntry): string {
  if (entry.s3_etag) return entry.s3_etag;
  if (entry.slo_etag) return `"${entry.slo_etag.replace(/"/g, '')}-N"`;
  const hash = entry.hash ?? '';
  return hash.length >= 2 && hash.startsWith('"') && hash.endsWith('"') ? hash : `"${hash}"`;
}
