// The object server (Swift's swift/obj/server.py): GET, HEAD, POST and DELETE here; PUT in put.ts.
import { Readable } from 'node:stream';
import type { SwiftResponse } from '../../pipeline.ts';
import { checkMetadata } from '../../constraints.ts';
import { isSysMeta, isTrue } from '../header-families.ts';
import { byMethod } from '../method-dispatch.ts';
import { bare, plain } from '../responses.ts';
import { maxTimestamp, Timestamp } from '../timestamp.ts';
import { conditionalEtag, conditionalStatus } from './conditional.ts';
import type { ObjectContext, ObjectRequest } from './context.ts';
import type { OpenObject } from './disk-object.ts';
import type { ObjectMetadata } from './file-format.ts';
import { putObject } from './put.ts';
import { verifiedRead } from './verified-read.ts';
import { contentRange, multipartByteranges, parseRangeHeader, rangesForLength } from './ranges.ts';
import { applyUpdateOverrides, isServedMetadata, metadataFromRequest } from './request-metadata.ts';
import { readTimestamp, requiredTimestamp } from '../request-timestamp.ts';
import { splitSwiftBytes } from '../swift-bytes.ts';

export async function handleObject(ctx: ObjectContext, r: ObjectRequest): Promise<SwiftResponse> {
  return byMethod(r.req.method, {
    PUT: () => putObject(ctx, r),
    GET: () => getObject(ctx, r),
    HEAD: () => getObject(ctx, r),
    POST: () => postObject(ctx, r),
    DELETE: () => deleteObject(ctx, r),
  });
}

async function getObject(ctx: ObjectContext, r: ObjectRequest): Promise<SwiftResponse> {
  const headers = r.req.headers;
  const now = readTimestamp(headers);
  const state = await ctx.disk.open(r.location, now.seconds, isTrue(headers['x-backend-open-expired']));
  if (state.kind !== 'found') {
    const notFound: Record<string, string> = state.kind === 'missing' ? {} : { 'x-backend-timestamp': state.timestamp.internal };
    if (conditionalStatus(headers, {}) === 412) return bare(412, notFound);
    return plain(404, '', notFound);
  }
  const object = state.object;
  const responseHeaders = objectHeaders(object);
  const status = conditionalStatus(headers, { etag: conditionalEtag(headers, object.metadata), lastModified: object.timestamp.ceilSeconds });
  if (status !== undefined || r.req.method === 'HEAD') {
    await object.close();
    return status === undefined ? { status: 200, headers: responseHeaders } : bare(status, { ...responseHeaders, 'content-length': '0' });
  }
  const length = object.contentLength;
  const ranges = ignoreRange(headers, object.metadata) ? undefined : rangesForLength(parseRangeHeader(headers.range), length);
  if (ranges && ranges.length === 0) {
    await object.close();
    return plain(416, 'The Range requested is not available.', { 'content-range': `bytes */${length}` });
  }
  if (!ranges || length === 0) return { status: 200, headers: responseHeaders, body: streamOf(object, verifiedRead(ctx, r, object)) };
  if (ranges.length === 1) {
    const [range] = ranges;
    return {
      status: 206,
      headers: { ...responseHeaders, 'content-length': String(range!.end - range!.start), 'content-range': contentRange(range!, length) },
      body: streamOf(object, object.read(range!.start, range!.end)),
    };
  }
  const multipart = multipartByteranges(ranges, object.contentType, length);
  return {
    status: 206,
    headers: { ...responseHeaders, 'content-type': multipart.contentType, 'content-length': String(multipart.size) },
    body: streamOf(object, multipart.body((range) => object.read(range.start, range.end))),
  };
}

/** The body of a GET: closes the object's file however the response ends (done, failed, client gone). */
function streamOf(object: OpenObject, chunks: AsyncIterable<Buffer>): Readable {
  const stream = Readable.from(chunks, { objectMode: false });
  stream.once('close', () => void object.close());
  return stream;
}

/** SLO asks for a manifest whole, whatever the Range, by naming a key only manifests have. */
function ignoreRange(headers: Record<string, string>, metadata: ObjectMetadata): boolean {
  const keys = (headers['x-backend-ignore-range-if-metadata-present'] ?? '').split(',').map((k) => k.trim().toLowerCase());
  return keys.some((key) => key && metadata[key] !== undefined);
}

function objectHeaders(object: OpenObject): Record<string, string> {
  const headers: Record<string, string> = { 'content-type': object.contentType };
  for (const [key, value] of Object.entries(object.metadata)) if (isServedMetadata(key)) headers[key] = value;
  const timestamp = object.timestamp;
  Object.assign(headers, {
    etag: `"${object.metadata.etag}"`,
    'last-modified': timestamp.httpDate,
    'content-length': String(object.contentLength),
    'x-timestamp': timestamp.normal,
    'x-backend-timestamp': timestamp.internal,
    'x-backend-data-timestamp': object.dataTimestamp.internal,
    'x-backend-durable-timestamp': object.dataTimestamp.internal,
    'accept-ranges': 'bytes',
  });
  return headers;
}

/**
 * A POST replaces the object's user metadata (and the allowed headers, X-Delete-At
 * included) in a new .meta file; the data stays. A Content-Type on a POST changes the
 * object's type too, and the listing follows.
 */
async function postObject(ctx: ObjectContext, r: ObjectRequest): Promise<SwiftResponse> {
  const headers = r.req.headers;
  const timestamp = requiredTimestamp(headers);
  const deleteAtHeader = headers['x-delete-at'];
  if (deleteAtHeader && !/^\s*[-+]?\d+\s*$/.test(deleteAtHeader)) return plain(400, 'Non-integer X-Delete-At');
  const newDeleteAt = Number(deleteAtHeader || 0);
  if (newDeleteAt && newDeleteAt < timestamp.seconds) return plain(400, 'X-Delete-At in past');
  const bad = checkMetadata(headers, 'object');
  if (bad) return bad;
  let requestCtypeTimestamp = Timestamp.zero();
  if (headers['content-type']) {
    const parsed = Timestamp.tryParse(headers['content-type-timestamp'] ?? timestamp.internal);
    if (!parsed) return plain(400, 'Invalid Content-Type-Timestamp');
    requestCtypeTimestamp = parsed;
  }

  const state = await ctx.disk.open(r.location, timestamp.seconds, isTrue(headers['x-backend-open-expired']));
  if (state.kind !== 'found') return plain(404);
  const object = state.object;
  await object.close();
  const existingTimestamp = object.timestamp;
  const existingCtypeTimestamp = object.contentTypeTimestamp;
  const newerMetadata = timestamp.newerThan(existingTimestamp);
  const newerCtype = requestCtypeTimestamp.newerThan(existingCtypeTimestamp);
  if (!newerMetadata && !(newerCtype && object.metaMetadata)) return bare(409, { 'x-backend-timestamp': existingTimestamp.internal });

  const metadata: ObjectMetadata = newerMetadata ? { 'x-timestamp': timestamp.internal, ...metadataFromRequest(headers, false) } : { ...object.metaMetadata };
  delete metadata.name;
  let contentType: string;
  let ctypeTimestamp: Timestamp;
  if (newerCtype) {
    contentType = headers['content-type']!;
    ctypeTimestamp = requestCtypeTimestamp;
    metadata['content-type'] = contentType;
    metadata['content-type-timestamp'] = ctypeTimestamp.internal;
  } else {
    contentType = object.contentType;
    ctypeTimestamp = existingCtypeTimestamp;
    // A type set by an earlier POST must survive this one, which replaces that .meta.
    if (!ctypeTimestamp.equals(object.dataTimestamp)) {
      metadata['content-type'] = contentType;
      metadata['content-type-timestamp'] = ctypeTimestamp.internal;
    }
  }
  await ctx.disk.writeMetadataFile(r.location, 'meta', metadata);

  // The listing keeps the manifest size SLO stored in the data file's type.
  let listedType = contentType;
  if (!ctypeTimestamp.equals(object.dataTimestamp)) {
    const { swiftBytes } = splitSwiftBytes(object.dataMetadata['content-type'] ?? '');
    if (swiftBytes !== undefined) listedType += `;swift_bytes=${swiftBytes}`;
  }
  const update: Record<string, string> = {
    'x-size': object.dataMetadata['content-length']!,
    'x-content-type': listedType,
    'x-timestamp': object.dataTimestamp.internal,
    'x-content-type-timestamp': ctypeTimestamp.internal,
    'x-meta-timestamp': metadata['x-timestamp']!,
    'x-etag': object.dataMetadata.etag!,
  };
  applyUpdateOverrides(update, object.dataMetadata);
  await ctx.sendContainerUpdate(r, 'PUT', update, timestamp);
  if (newerMetadata) await ctx.updateExpirerQueue(r, timestamp, object.metadata['x-delete-at'], metadata['x-delete-at'], object.dataMetadata);

  const responseHeaders: Record<string, string> = { 'x-backend-content-type': contentType };
  for (const [key, value] of Object.entries(object.dataMetadata)) if (isSysMeta('object', key)) responseHeaders[key] = value;
  return bare(202, responseHeaders);
}

/**
 * DELETE leaves a tombstone whether or not there was an object (204 if there was, 404 if
 * not), so a replica that missed the DELETE learns of it. X-If-Delete-At (the expirer's
 * DELETE) only deletes the object that is still set to expire at that time.
 */
async function deleteObject(ctx: ObjectContext, r: ObjectRequest): Promise<SwiftResponse> {
  const headers = r.req.headers;
  const timestamp = requiredTimestamp(headers);
  const state = await ctx.disk.open(r.location, timestamp.seconds);
  let existingTimestamp = Timestamp.zero();
  let existing: ObjectMetadata = {};
  let status = 404;
  if (state.kind === 'found') {
    await state.object.close();
    existingTimestamp = state.object.dataTimestamp;
    existing = state.object.metadata;
    status = existingTimestamp.compare(timestamp) < 0 ? 204 : 409;
  } else if (state.kind === 'expired') {
    existingTimestamp = state.timestamp;
    existing = state.metadata;
  } else if (state.kind === 'deleted') {
    existingTimestamp = state.timestamp;
  }

  if (headers['x-if-delete-at'] !== undefined) {
    const ifDeleteAt = Timestamp.tryParse(headers['x-if-delete-at']);
    if (!ifDeleteAt) return plain(400, 'Bad X-If-Delete-At header value');
    // No tombstone unless the expiry the caller saw can be checked.
    if (!existingTimestamp.isSet) return plain(404);
    if (existingTimestamp.compare(timestamp) >= 0) return plain(409);
    const existingDeleteAt = Timestamp.tryParse(existing['x-delete-at'] || '0') ?? Timestamp.zero();
    if (!existingDeleteAt.equals(ifDeleteAt)) return plain(412, 'X-If-Delete-At and X-Delete-At do not match');
    status = 204;
  }

  if (existingTimestamp.compare(timestamp) < 0) {
    await ctx.updateExpirerQueue(r, timestamp, existing['x-delete-at'], undefined, existing);
    await ctx.disk.writeMetadataFile(r.location, 'ts', { 'x-timestamp': timestamp.internal });
    await ctx.sendContainerUpdate(r, 'DELETE', { 'x-timestamp': timestamp.internal }, timestamp);
  }
  return bare(status, {
    'x-backend-timestamp': maxTimestamp(existingTimestamp, timestamp).internal,
    'x-backend-content-type': existing['content-type'] ?? '',
  });
}
