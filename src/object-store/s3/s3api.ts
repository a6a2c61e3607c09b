// The S3 API on the object store (Swift's s3api middleware), placed above the auth
// middlewares. A request signed the AWS way (Authorization: AWS4-HMAC-SHA256 ... or
// AWS <access>:<signature>, or a presigned URL) is answered here, in S3 terms, by Swift
// subrequests on the signer's account: buckets are containers, keys are objects, multipart
// uploads are SLOs. Anything else passes through untouched.
//
// Pipeline: ... s3Api → s3Token → keystone-auth → copy → slo → ... → proxy. s3Token (below)
// learns from Identity who signed, so keystone-auth and the proxy see the caller as if they
// had come with a token.
import type { Logger } from 'pino';
import type { Capabilities } from '../capabilities.ts';
import { MAX_OBJECT_NAME_LENGTH } from '../constraints.ts';
import type { Handler, Middleware, SwiftRequest, SwiftResponse } from '../pipeline.ts';
import { getAcl, putAcl } from './controllers/acl.ts';
import { createBucket, deleteBucket, getBucketLocation, getBucketVersioning, headBucket, listObjects } from './controllers/bucket.ts';
import { deleteObjects } from './controllers/multi-delete.ts';
import { abortMultipartUpload, createMultipartUpload, listMultipartUploads, listParts, uploadPart } from './controllers/multipart.ts';
import { completeMultipartUpload } from './controllers/multipart-complete.ts';
import { deleteObject, getObject, headObject, putObject } from './controllers/object.ts';
import { listBuckets } from './controllers/service.ts';
import type { S3Env } from './env.ts';
import { errorResponse, S3Error, s3Error } from './errors.ts';
import { bucketInHost, s3Target } from './names.ts';
import { preparePayload } from './payload.ts';
import { S3Request, type S3Config } from './request.ts';
import { parseS3Auth, type S3Auth } from './signature.ts';

export interface S3ApiOptions extends Partial<S3Config> {
  logger?: Logger;
  /** where the /info "s3api" section is registered */
  capabilities?: Capabilities;
}

type Controller = (r: S3Request) => Promise<SwiftResponse>;

/** Query parameters of S3 features this cloud does not have (Swift's UnsupportedController). */
const UNSUPPORTED = ['notification', 'policy', 'publicAccessBlock', 'requestPayment', 'torrent', 'website', 'cors', 'restore', 'logging', 'tagging', 'object-lock', 'lifecycle', 'replication', 'encryption', 'accelerate', 'analytics', 'inventory', 'metrics', 'ownershipControls', 'intelligent-tiering', 'retention', 'legal-hold', 'attributes', 'select'];

function byMethod(r: S3Request, resourceType: string, controllers: Record<string, Controller>): Controller {
  const controller = controllers[r.method];
  if (!controller) throw s3Error('MethodNotAllowed', { Method: r.method, ResourceType: resourceType });
  return controller;
}

function needsKey(r: S3Request): void {
  if (r.key === undefined) throw s3Error('InvalidRequest', {}, 'A key must be specified');
}

/** Which operation a request is (Swift's S3Request.controller, then the method). */
function route(r: S3Request): Controller {
  const q = r.query;
  if (UNSUPPORTED.some((p) => q.has(p))) throw s3Error('NotImplemented', {}, 'The requested resource is not implemented');
  if (r.bucket === undefined) return byMethod(r, 'SERVICE', { GET: listBuckets });
  if (q.has('acl')) return byMethod(r, 'ACL', { GET: getAcl, PUT: putAcl });
  if (q.has('delete')) return byMethod(r, 'MULTI_OBJECT_DELETE', { POST: deleteObjects });
  if (q.has('location')) return byMethod(r, 'LOCATION', { GET: getBucketLocation });
  if (q.has('partNumber') && r.method === 'PUT') {
    needsKey(r);
    return uploadPart;
  }
  if (q.has('uploadId') && !q.has('partNumber')) {
    needsKey(r);
    return byMethod(r, 'UPLOAD', { GET: listParts, DELETE: abortMultipartUpload, POST: completeMultipartUpload });
  }
  if (q.has('uploads')) {
    if (r.method === 'POST') needsKey(r);
    return byMethod(r, 'UPLOADS', { GET: listMultipartUploads, POST: createMultipartUpload });
  }
  if (q.has('versioning')) return byMethod(r, 'VERSIONING', { GET: getBucketVersioning });
  if (r.key !== undefined) return byMethod(r, 'OBJECT', { GET: getObject, HEAD: headObject, PUT: putObject, DELETE: deleteObject });
  return byMethod(r, 'BUCKET', { GET: listObjects, HEAD: headBucket, PUT: createBucket, DELETE: deleteBucket });
}

/** Request headers that say something this cloud cannot do, or say it wrongly (Swift's _validate_headers). */
function checkHeaders(req: SwiftRequest): void {
  const h = req.headers;
  if (req.method === 'PUT' && (h['if-match'] !== undefined || h['if-modified-since'] !== undefined || h['if-unmodified-since'] !== undefined || (h['if-none-match'] ?? '*') !== '*')) {
    throw s3Error('NotImplemented', {}, 'Conditional object PUTs are not supported.');
  }
  const directive = h['x-amz-metadata-directive'];
  if (directive !== undefined && directive !== 'COPY' && directive !== 'REPLACE') {
    throw s3Error('InvalidArgument', { ArgumentName: 'x-amz-metadata-directive', ArgumentValue: directive }, 'Unknown metadata directive.');
  }
  if (h['x-amz-storage-class'] !== undefined && h['x-amz-storage-class'] !== 'STANDARD') throw s3Error('InvalidStorageClass');
  if (h['x-amz-mfa'] !== undefined) throw s3Error('NotImplemented', {}, 'MFA Delete is not supported.');
  const sse = h['x-amz-server-side-encryption'];
  if (sse !== undefined) {
    if (sse !== 'aws:kms' && sse !== 'AES256') {
      throw s3Error('InvalidArgument', { ArgumentName: 'x-amz-server-side-encryption', ArgumentValue: sse }, 'The encryption method specified is not supported');
    }
    throw s3Error('NotImplemented', {}, 'Server-side encryption is not supported.');
  }
  if (h['x-amz-website-redirect-location'] !== undefined) throw s3Error('NotImplemented', {}, 'Website redirection is not supported.');
  if (h['x-amz-tagging'] !== undefined) throw s3Error('NotImplemented', {}, 'Object tagging is not supported.');
  const md5 = h['content-md5']?.trim();
  if (md5 !== undefined && (!/^[A-Za-z0-9+/]+={0,2}$/.test(md5) || Buffer.from(md5, 'base64').length !== 16)) {
    throw s3Error('InvalidDigest', { ContentMD5: md5 });
  }
}

export function s3Api(opts: S3ApiOptions = {}): Middleware {
  const conf: S3Config = {
    location: opts.location ?? 'us-east-1',
    allowableClockSkew: opts.allowableClockSkew ?? 900,
    storageDomains: opts.storageDomains ?? [],
    dnsCompliantBucketNames: opts.dnsCompliantBucketNames ?? true,
    maxBucketListing: opts.maxBucketListing ?? 1000,
    maxPartsListing: opts.maxPartsListing ?? 1000,
    maxMultiDeleteObjects: opts.maxMultiDeleteObjects ?? 1000,
    maxUploadPartNum: opts.maxUploadPartNum ?? 1000,
    minSegmentSize: opts.minSegmentSize ?? 5242880,
    maxObjectNameLength: opts.maxObjectNameLength ?? MAX_OBJECT_NAME_LENGTH,
    heartbeatMs: opts.heartbeatMs ?? 10_000,
  };
  opts.capabilities?.register('s3api', {
    max_bucket_listing: conf.maxBucketListing,
    max_parts_listing: conf.maxPartsListing,
    max_upload_part_num: conf.maxUploadPartNum,
    max_multi_delete_objects: conf.maxMultiDeleteObjects,
    allow_multipart_uploads: true,
    min_segment_size: conf.minSegmentSize,
    s3_acl: false,
  });

  return (next: Handler): Handler => async (req) => {
    const requestId = req.env.transId;
    const hostBucket = bucketInHost(req.headers.host, conf.storageDomains);
    let resource = req.path;
    const failed = (err: unknown): SwiftResponse => {
      if (err instanceof S3Error) return errorResponse(err, resource, requestId);
      opts.logger?.error({ err, trans_id: requestId }, 's3api: unexpected error');
      return errorResponse(new S3Error('InternalError'), resource, requestId);
    };
    let auth: S3Auth | undefined;
    try {
      auth = parseS3Auth(req, { location: conf.location, allowableClockSkew: conf.allowableClockSkew, bucketInHost: hostBucket });
    } catch (err) {
      return failed(err);
    }
    if (!auth) return next(req);
    try {
      const { bucket, key } = s3Target(req.path, hostBucket, conf.dnsCompliantBucketNames);
      resource = bucket === undefined ? '/' : key === undefined ? `/${bucket}` : `/${bucket}/${key}`;
      checkHeaders(req);
      // the signature is the request's one credential: a token beside it would decide instead
      delete req.headers['x-auth-token'];
      delete req.headers['x-storage-token'];
      const payload = preparePayload(req, auth);
      const env: S3Env = { auth };
      req.env.s3api = env;
      const r = new S3Request(req, next, conf, env, payload, bucket, key);
      const res = await route(r)(r);
      res.headers['x-amz-request-id'] = requestId;
      res.headers['x-amz-id-2'] = requestId;
      return res;
    } catch (err) {
      return failed(err);
    }
  };
}
