// One S3 request as the controllers see it: the bucket and key it names, and the Swift
// subrequests that carry it out, on the caller's account, through the rest of the pipeline
// (s3token, keystone-auth, copy, slo ... the proxy). A Swift answer that means failure comes
// back as the S3 error Swift's s3api maps it to.
import type { Readable } from 'node:stream';
import { parseInteger } from '../constraints.ts';
import { joinHash, splitHash } from '../middleware/listing-rows.ts';
import { swiftPath } from '../path.ts';
import { BodyTooLargeError, discardBody, readBody, subrequest, type Handler, type SwiftRequest, type SwiftResponse } from '../pipeline.ts';
import { getContainerInfo, type ContainerInfo } from '../proxy/info.ts';
import { isSuccess } from '../proxy/responses.ts';
import type { S3Env } from './env.ts';
import { S3Error, s3Error } from './errors.ts';
import type { Payload } from './payload.ts';
import { parseXml, XmlSyntaxError, type XmlElement } from './xml.ts';

export interface S3Config {
  location: string;
  allowableClockSkew: number;
  storageDomains: string[];
  dnsCompliantBucketNames: boolean;
  maxBucketListing: number;
  maxPartsListing: number;
  maxMultiDeleteObjects: number;
  maxUploadPartNum: number;
  minSegmentSize: number;
  /** object names longer than this (bytes) are KeyTooLongError */
  maxObjectNameLength: number;
  /** how long CompleteMultipartUpload works before its answer starts (whitespace keeps it alive after) */
  heartbeatMs: number;
}

/** Where the parts of a bucket's multipart uploads are kept: the "<bucket>+segments" container. */
export const MULTIUPLOAD_SUFFIX = '+segments';

const MAX_32BIT_INT = 2147483647;

/** Container listings are JSON arrays of at most 10,000 short entries. */
const MAX_LISTING_BYTES = 32 * 1024 * 1024;

export interface SwiftCall {
  container?: string;
  object?: string;
  query?: Record<string, string>;
  headers?: Record<string, string>;
  body?: Readable;
  /** statuses the controller handles itself: returned as they are rather than mapped to errors */
  accept?: number[];
}

export interface ListingEntry {
  name?: string;
  subdir?: string;
  hash?: string;
  bytes?: number;
  content_type?: string;
  last_modified?: string;
  s3_etag?: string;
  slo_etag?: string;
}

export class S3Request {
  constructor(
    /** the client's request */
    readonly client: SwiftRequest,
    readonly next: Handler,
    readonly conf: S3Config,
    readonly env: S3Env,
    readonly payload: Payload,
    readonly bucket: string | undefined,
    readonly key: string | undefined,
  ) {}

  get method(): string {
    return this.client.method;
  }

  get query(): URLSearchParams {
    return this.client.query;
  }

  get headers(): Record<string, string> {
    return this.client.headers;
  }

  /** What errors name as the Resource: /bucket/key */
  get resource(): string {
    if (this.bucket === undefined) return '/';
    return this.key === undefined ? `/${this.bucket}` : `/${this.bucket}/${this.key}`;
  }

  /** The caller's account; until s3token has answered, the access key stands in (s3token rewrites it). */
  get account(): string {
    return this.env.caller?.account ?? this.env.auth.accessKey;
  }

  /** How owners and initiators are named in listings: project:user, as Swift's s3api with Keystone. */
  get userId(): string {
    const who = this.env.caller?.identity;
    return who ? `${who.projectName ?? who.projectId}:${who.userName}` : this.env.auth.accessKey;
  }

  /** An integer query parameter within 0..2^31-1, capped at `limit` (Swift's get_validated_param). */
  intParam(name: string, fallback: number, limit = MAX_32BIT_INT): number {
    const text = this.query.get(name);
    if (text === null) return fallback;
    const value = parseInteger(text) ?? NaN;
    if (value < 0) throw s3Error('InvalidArgument', { ArgumentName: name, ArgumentValue: text }, `Argument ${name} must be an integer between 0 and ${MAX_32BIT_INT}`);
    if (!(value <= MAX_32BIT_INT)) throw s3Error('InvalidArgument', { ArgumentName: name, ArgumentValue: text }, `Provided ${name} not an integer or within integer range`);
    return Math.min(value, limit);
  }

  /** ?encoding-type: 'url' asks for the names in a listing %-encoded (as Python's quote); any other value is InvalidArgument. */
  encodingType(): 'url' | undefined {
    const value = this.query.get('encoding-type');
    if (value === null) return undefined;
    if (value !== 'url') throw s3Error('InvalidArgument', { ArgumentName: 'encoding-type', ArgumentValue: value }, 'Invalid Encoding Method specified in Request');
    return value;
  }

  /** A small request body (an XML document), read whole; undefined when there is none (Swift's S3Request.xml). */
  async smallBody(maxLength: number): Promise<Buffer | undefined> {
    const te = (this.headers['transfer-encoding'] ?? '').split(',').map((t) => t.trim()).filter(Boolean);
    if (te.length > 1 || (te.length === 1 && te[0]!.toLowerCase() !== 'chunked')) {
      throw s3Error('NotImplemented', { Header: 'Transfer-Encoding' }, 'A header you provided implies functionality that is not implemented');
    }
    const length = Number(this.payload.contentLength ?? 0);
    if (length > maxLength) throw s3Error('MalformedXML');
    if (!te.length && !length) return undefined;
    try {
      return await readBody(this.payload.body, maxLength);
    } catch (err) {
      if (err instanceof S3Error) throw err;
      if (err instanceof BodyTooLargeError) throw s3Error('MalformedXML');
      throw err;
    }
  }

  /** Makes sure Identity has been asked who signed (a HEAD of the account, which info lookups need anyway). */
  async authenticate(): Promise<void> {
    if (this.env.caller) return;
    discardBody(await this.call('HEAD', { accept: [401, 403, 404] }));
  }

  /** The bucket's container info; NoSuchBucket when it is not there. */
  async bucketInfo(container = this.bucket!): Promise<ContainerInfo> {
    await this.authenticate();
    const info = await getContainerInfo(this.client, this.next, this.account, container);
    if (isSuccess(info.status)) return info;
    if (info.status === 404 || info.status === 0 || info.status === 410) throw s3Error('NoSuchBucket', { BucketName: container });
    if (info.status === 503) throw s3Error('ServiceUnavailable');
    throw new S3Error('InternalError', `unexpected status code ${info.status}`);
  }

  /** A Swift subrequest on the caller's account; failure statuses become S3 errors. */
  async call(method: string, c: SwiftCall = {}): Promise<SwiftResponse> {
    const sub = subrequest(this.client, {
      method,
      path: swiftPath({ account: this.account, container: c.container, object: c.object }),
      query: c.query ?? {},
      headers: c.headers ?? {},
      body: c.body,
      source: 'S3',
    });
    const res = await this.next(sub);
    if (this.env.failure) {
      discardBody(res);
      throw this.env.failure;
    }
    const bodyFailure = this.payload.failure();
    if (bodyFailure) {
      discardBody(res);
      throw bodyFailure;
    }
    if (callSucceeded(method, c, res.status) || c.accept?.includes(res.status)) return res;
    throw await this.errorFor(method, c, res);
  }

  /** A container listing (JSON) on the caller's account; the account's own listing without a container. */
  async listing(container: string | undefined, query: Record<string, string>): Promise<ListingEntry[]> {
    const res = await this.call('GET', { container, query: { ...query, format: 'json' } });
    if (res.status === 204) {
      discardBody(res);
      return [];
    }
    const text = (await readBody(res.body, MAX_LISTING_BYTES)).toString('utf8');
    const parsed: unknown = text ? JSON.parse(text) : [];
    if (!Array.isArray(parsed)) throw new S3Error('InternalError', 'a listing that is not a list');
    return parsed.map(withS3Etag);
  }

  /** Swift's s3api error maps: what a failed subrequest means in S3 terms. */
  private async errorFor(method: string, c: SwiftCall, res: SwiftResponse): Promise<S3Error> {
    const status = res.status;
    const text = status === 400 || status === 413 ? (await readBody(res.body, 64 * 1024).catch(() => Buffer.alloc(0))).toString('utf8') : (discardBody(res), '');
    const container = c.container;
    if (container !== undefined && c.object === undefined) {
      if (status === 404) return s3Error('NoSuchBucket', { BucketName: container });
      if (method === 'PUT' && status === 202) return s3Error('BucketAlreadyOwnedByYou', { BucketName: container });
      if (method === 'DELETE' && status === 409) return s3Error('BucketNotEmpty');
    } else if (container !== undefined) {
      if (status === 404) {
        if (method === 'PUT') return s3Error('NoSuchBucket', { BucketName: container });
        if (method === 'DELETE') return s3Error('NoSuchKey', { Key: c.object });
        // missing object or missing bucket? the segments container counts as there
        if (container.endsWith(MULTIUPLOAD_SUFFIX)) return s3Error('NoSuchKey', { Key: c.object });
        const info = await getContainerInfo(this.client, this.next, this.account, container);
        return isSuccess(info.status) ? s3Error('NoSuchKey', { Key: c.object }) : s3Error('NoSuchBucket', { BucketName: container });
      }
      if (status === 412) return s3Error('PreconditionFailed');
      if (method === 'PUT') {
        if (status === 422) return s3Error('BadDigest');
        if (status === 413) return text.includes('quota') ? s3Error('EntityTooLarge', {}, text) : s3Error('EntityTooLarge');
        if (status === 411) return s3Error('MissingContentLength');
        if (status === 408 || status === 499) return s3Error('RequestTimeout');
      }
    }
    if (status === 400) {
      if (text.includes('X-Delete-At')) return s3Error('InvalidArgument', { ArgumentName: 'X-Delete-At', ArgumentValue: this.headers['x-delete-at'] }, text);
      if (text.includes('X-Delete-After')) return s3Error('InvalidArgument', { ArgumentName: 'X-Delete-After', ArgumentValue: this.headers['x-delete-after'] }, text);
      return s3Error('InvalidRequest', {}, text || undefined);
    }
    if (status === 401) return s3Error('SignatureDoesNotMatch', this.env.auth.mismatchDetails());
    if (status === 403) return s3Error('AccessDenied');
    if (status === 413 && text.includes('quota')) return s3Error('EntityTooLarge', {}, text);
    if (status === 416) return c.query?.['part-number'] !== undefined ? s3Error('InvalidPartNumber') : s3Error('InvalidRange');
    if (status === 503) return s3Error('ServiceUnavailable');
    if (status === 429 || status === 498) return s3Error('SlowDown');
    if (status === 409) return method === 'GET' ? new S3Error('BrokenMPU', 'Multipart upload has broken segment data.', {}, 409) : s3Error('ServiceUnavailable');
    return new S3Error('InternalError', `unexpected status code ${status}`);
  }
}

/** The XML document a request body holds; the S3 error `code` when it is not well-formed or its root is not `root`. */
export function requestXml(body: Buffer, root: string, code: 'MalformedXML' | 'MalformedACLError'): XmlElement {
  let doc: XmlElement;
  try {
    doc = parseXml(body.toString('utf8'));
  } catch (err) {
    if (err instanceof XmlSyntaxError) throw s3Error(code);
    throw err;
  }
  if (doc.name !== root) throw s3Error(code);
  return doc;
}

function callSucceeded(method: string, c: SwiftCall, status: number): boolean {
  // a container PUT that finds it there (202) is not a success in S3 terms
  if (c.container !== undefined && c.object === undefined && method === 'PUT') return status === 201;
  if (c.object !== undefined && (method === 'GET' || method === 'HEAD')) return isSuccess(status) || status === 304;
  return isSuccess(status);
}

/** A multipart upload's S3 ETag rides in the listing's hash as "; s3_etag=" (Swift's ListingEtagMiddleware). */
function withS3Etag(entry: ListingEntry): ListingEntry {
  if (typeof entry.hash !== 'string' || !entry.hash.includes(';')) return entry;
  const { etag, params } = splitHash(entry.hash);
  const s3Etag = params.find(([key]) => key === 's3_etag');
  if (s3Etag) entry.s3_etag = `"${s3Etag[1]}"`;
  return { ...entry, hash: joinHash(etag, params.filter((p) => p !== s3Etag)) };
}
