// x-amz-copy-source of CopyObject and UploadPartCopy: which object, checked to exist (and
// to meet the x-amz-copy-source-if-* conditions) before the copy is asked of Swift's copy
// middleware with X-Copy-From.
import { tryDecodeURIComponent } from '../middleware/quote.ts';
import { discardBody, type SwiftResponse } from '../pipeline.ts';
import { s3Error } from './errors.ts';
import { etagConditions } from './conditions.ts';
import { s3Headers } from './headers.ts';
import type { S3Request } from './request.ts';
import { uriEncode } from './signature.ts';

export interface CopySource {
  bucket: string;
  key: string;
  /** X-Copy-From: /<container>/<object>, %-encoded */
  copyFrom: string;
  /** the source's HEAD */
  head: SwiftResponse;
}

/** The source of a copy, or undefined when the request is no copy. */
export async function copySource(r: S3Request): Promise<CopySource | undefined> {
  const header = r.headers['x-amz-copy-source'];
  if (header === undefined) return undefined;
  const [pathPart, queryPart] = header.split('?', 2) as [string, string | undefined];
  const params = new URLSearchParams(queryPart ?? '');
  const keys = [...params.keys()];
  if (keys.length > 1 || (keys.length === 1 && keys[0] !== 'versionId')) {
    throw s3Error('InvalidArgument', { ArgumentName: 'X-Amz-Copy-Source', ArgumentValue: header }, 'Unsupported copy source parameter.');
  }
  const version = params.get('versionId');
  if (version !== null && version !== 'null') throw s3Error('NotImplemented');
  const m = /^\/?([^/]+)\/(.+)$/.exec(tryDecodeURIComponent(pathPart));
  if (!m) {
    throw s3Error('InvalidArgument', { ArgumentName: 'x-amz-copy-source', ArgumentValue: header }, 'Copy Source must mention the source bucket and key: sourcebucket/sourcekey');
  }
  const [, bucket, key] = m as unknown as [string, string, string];

  const condition = (name: string) => r.headers[`x-amz-copy-source-${name}`];
  const headers: Record<string, string> = {};
  for (const name of ['if-modified-since', 'if-unmodified-since']) if (condition(name) !== undefined) headers[name] = condition(name)!;
  const head = await r.call('HEAD', { container: bucket, object: key, headers });
  discardBody(head);
  const unmet = etagConditions({ ifMatch: condition('if-match'), ifNoneMatch: condition('if-none-match') }, s3Headers(head.headers).etag ?? '');
  if (head.status === 304 || unmet !== undefined) throw s3Error('PreconditionFailed');
  return { bucket, key, copyFrom: `/${uriEncode(bucket)}/${uriEncode(key, true)}`, head };
}
