// Headers between S3 and Swift: x-amz-meta-* is X-Object-Meta-*, the S3 ETag of a multipart
// upload lives in object sysmeta, and only the headers S3 defines go back to the client
// (Swift's s3api translate_swift_to_s3 and to_swift_req).
import { isTrue } from '../storage/header-families.ts';
import { unquoteEtag } from '../storage/object/conditional.ts';

/** Object sysmeta s3api keeps (Swift's names, so data moves between the two). */
export const SYSMETA_ETAG = 'x-object-sysmeta-s3api-etag';
export const SYSMETA_UPLOAD_ID = 'x-object-sysmeta-s3api-upload-id';
export const SYSMETA_HAS_CONTENT_TYPE = 'x-object-sysmeta-s3api-has-content-type';
export const SYSMETA_CONTENT_TYPE = 'x-object-sysmeta-s3api-content-type';

/** Response headers that pass unchanged. */
const PASSED = new Set([
  'accept-ranges', 'content-length', 'content-type', 'content-range', 'content-encoding', 'content-disposition',
  'content-language', 'etag', 'last-modified', 'x-robots-tag', 'cache-control', 'expires',
]);

/** Request headers an object write takes from the client as they are. */
export const OBJECT_WRITE_HEADERS = [
  'content-type', 'content-disposition', 'content-language', 'cache-control', 'expires', 'x-robots-tag',
  'x-delete-at', 'x-delete-after',
];

/** Characters AWS does not accept in a user metadata name; such headers are ignored. */
const BAD_META_NAME = /[ "),/;<=>?@[\\\]{}]/;

export function quoteEtag(etag: string): string {
  return `"${unquoteEtag(etag)}"`;
}

/**
 * x-amz-meta-<name> as X-Object-Meta-<name>. (Swift's s3api stores underscores as "=5F"
 * because WSGI confuses them with dashes; '=' cannot be in an HTTP header name here, and
 * Node keeps underscores, so they are stored as they are.)
 */
export function swiftMetadata(headers: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (!name.startsWith('x-amz-meta-') || BAD_META_NAME.test(name)) continue;
    out[`x-object-meta-${name.slice(11)}`] = value;
  }
  return out;
}

/** The S3 headers of a Swift object (or container) response. */
export function s3Headers(swift: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(swift)) {
    if (name.startsWith('x-object-meta-')) out[`x-amz-meta-${name.slice(14)}`] = value;
    else if (PASSED.has(name)) out[name] = value;
    else if (name === 'x-object-version-id') out['x-amz-version-id'] = value;
    else if (name === 'x-parts-count') out['x-amz-mp-parts-count'] = value;
    else if (name === 'x-delete-at' && /^\d+$/.test(value)) {
      out['x-amz-expiration'] = `expiry-date="${new Date(Number(value) * 1000).toUTCString()}", rule-id="swift-object-expiration"`;
    }
  }
  const s3Etag = swift[SYSMETA_ETAG];
  if (s3Etag) out.etag = s3Etag;
  // a large object made with the Swift API: clients see by the '-' that it is not an MD5
  else if (out.etag && isTrue(swift['x-static-large-object'])) out.etag = `${unquoteEtag(out.etag)}-N`;
  if (out.etag) out.etag = quoteEtag(out.etag);
  return out;
}

/** S3's XML timestamps: 2024-05-06T07:08:09.000Z, seconds rounded up as Swift's s3api does. */
export function s3XmlTime(value: string | number | undefined): string {
  let ms = typeof value === 'number' ? value : value === undefined ? NaN : Date.parse(/[zZ]|[+-]\d\d:?\d\d$|GMT$/.test(value) ? value : `${value}Z`);
  if (Number.isNaN(ms)) ms = Date.now();
  return new Date(Math.ceil(ms / 1000) * 1000).toISOString();
}
