// The limits a Swift cluster enforces on names, metadata and sizes (swift.conf
// [swift-constraints] defaults), the checks that apply them, and the same figures as GET /info
// publishes them. Header values arrive as Node hands them over: one character per byte
// (latin1), so `.length` of a header value is its size in bytes, as Swift counts it.
import { textResponse, type SwiftResponse } from './pipeline.ts';

export const MAX_FILE_SIZE = 5368709122;
export const MAX_META_NAME_LENGTH = 128;
export const MAX_META_VALUE_LENGTH = 256;
export const MAX_META_COUNT = 90;
export const MAX_META_OVERALL_SIZE = 4096;
export const MAX_HEADER_SIZE = 8192;
export const MAX_REQUEST_LINE = 8192;
export const MAX_OBJECT_NAME_LENGTH = 1024;
export const CONTAINER_LISTING_LIMIT = 10000;
export const ACCOUNT_LISTING_LIMIT = 10000;
export const MAX_ACCOUNT_NAME_LENGTH = 256;
export const MAX_CONTAINER_NAME_LENGTH = 256;
export const VALID_API_VERSIONS = ['v1', 'v1.0'];
/** accounts starting with it are the cluster's own (expirer queues); they always "exist" */
export const AUTO_CREATE_ACCOUNT_PREFIX = '.';

/** The constraints as the swift section of GET /info lists them. */
export const PUBLISHED_CONSTRAINTS = {
  max_file_size: MAX_FILE_SIZE,
  max_meta_name_length: MAX_META_NAME_LENGTH,
  max_meta_value_length: MAX_META_VALUE_LENGTH,
  max_meta_count: MAX_META_COUNT,
  max_meta_overall_size: MAX_META_OVERALL_SIZE,
  max_header_size: MAX_HEADER_SIZE,
  max_request_line: MAX_REQUEST_LINE,
  max_object_name_length: MAX_OBJECT_NAME_LENGTH,
  container_listing_limit: CONTAINER_LISTING_LIMIT,
  account_listing_limit: ACCOUNT_LISTING_LIMIT,
  max_account_name_length: MAX_ACCOUNT_NAME_LENGTH,
  max_container_name_length: MAX_CONTAINER_NAME_LENGTH,
  valid_api_versions: VALID_API_VERSIONS,
  extra_header_count: 0,
};

export type MetadataTarget = 'account' | 'container' | 'object';

export function validApiVersion(version: string): boolean {
  return VALID_API_VERSIONS.includes(version);
}

/** A header value (bytes as latin1 characters) that is well-formed UTF-8 without NUL. */
export function isUtf8HeaderValue(value: string): boolean {
  if (!value) return false;
  const bytes = Buffer.from(value, 'latin1');
  return !bytes.includes(0) && Buffer.from(bytes.toString('utf8'), 'utf8').equals(bytes);
}

/** Size of a name in bytes: path components are decoded strings, so they count as UTF-8. */
export function nameBytes(name: string): number {
  return Buffer.byteLength(name, 'utf8');
}

/**
 * X-<target>-Meta-* headers within the limits on names, values, count and total size; any
 * header over max_header_size. Undefined when fine, else the 400 to send.
 */
export function checkMetadata(headers: Record<string, string>, target: MetadataTarget): SwiftResponse | undefined {
  const prefix = `x-${target}-meta-`;
  let count = 0;
  let size = 0;
  for (const [name, value] of Object.entries(headers)) {
    if (value.length > MAX_HEADER_SIZE) return textResponse(400, `Header value too long: ${name.slice(0, MAX_META_NAME_LENGTH)}`);
    if (!name.startsWith(prefix)) continue;
    const key = name.slice(prefix.length);
    if (!key) return textResponse(400, 'Metadata name cannot be empty');
    if (target !== 'object' && (!isUtf8HeaderValue(key) || (value !== '' && !isUtf8HeaderValue(value)))) {
      return textResponse(400, 'Metadata must be valid UTF-8');
    }
    count += 1;
    size += key.length + value.length;
    if (key.length > MAX_META_NAME_LENGTH) return textResponse(400, `Metadata name too long: ${prefix}${key}`);
    if (value.length > MAX_META_VALUE_LENGTH) return textResponse(400, `Metadata value longer than ${MAX_META_VALUE_LENGTH}: ${prefix}${key}`);
    if (count > MAX_META_COUNT) return textResponse(400, `Too many metadata items; max ${MAX_META_COUNT}`);
    if (size > MAX_META_OVERALL_SIZE) return textResponse(400, `Total metadata too large; max ${MAX_META_OVERALL_SIZE}`);
  }
  return undefined;
}

/** A header or form value as Python's int() reads it (a sign and blanks around allowed); undefined when it is no integer. */
export function parseInteger(value: string): number | undefined {
  return /^\s*[-+]?\d+\s*$/.test(value) ? Number(value) : undefined;
}

/** Swift keeps delete-at times as whole seconds, ten digits wide. */
export function normalizeDeleteAt(seconds: number): string {
  return String(Math.min(Math.max(0, Math.trunc(seconds)), 9999999999)).padStart(10, '0');
}

/**
 * X-Delete-After becomes X-Delete-At (relative to the request's timestamp `now`, in seconds);
 * both must be integers in the future. Rewrites `headers`; a 400 when they are wrong.
 */
export function applyDeleteHeaders(headers: Record<string, string>, now: number): SwiftResponse | undefined {
  if (headers['x-delete-after'] !== undefined) {
    const after = parseInteger(headers['x-delete-after']);
    if (after === undefined) return textResponse(400, 'Non-integer X-Delete-After');
    const at = Number(normalizeDeleteAt(now + after));
    if (at <= now) return textResponse(400, 'X-Delete-After in past');
    headers['x-delete-at'] = normalizeDeleteAt(at);
    delete headers['x-delete-after'];
  }
  if (headers['x-delete-at'] !== undefined) {
    const given = parseInteger(headers['x-delete-at']);
    if (given === undefined) return textResponse(400, 'Non-integer X-Delete-At');
    const at = normalizeDeleteAt(given);
    if (Number(at) <= now) return textResponse(400, 'X-Delete-At in past');
    headers['x-delete-at'] = at;
  }
  return undefined;
}

/**
 * What an object PUT must satisfy before any byte moves: a size within max_file_size, a length
 * or chunked transfer, a name within max_object_name_length, a UTF-8 Content-Type, metadata
 * within its limits.
 */
export function checkObjectCreation(
  headers: Record<string, string>,
  objectName: string,
  opts: { contentTypeOverridden?: boolean } = {},
): SwiftResponse | undefined {
  const chunked = /(^|,)\s*chunked\s*$/i.test(headers['transfer-encoding'] ?? '');
  const length = headers['content-length'];
  if (headers['transfer-encoding'] !== undefined && !chunked) {
    return textResponse(501, 'Unsupported Transfer-Coding header value specified in Transfer-Encoding header');
  }
  if (length !== undefined && !chunked) {
    if (!/^\d+$/.test(length)) return textResponse(400, 'Invalid Content-Length header value');
    if (Number(length) > MAX_FILE_SIZE) return textResponse(413, 'Your request is too large.');
  }
  if (length === undefined && !chunked) return textResponse(411, 'Missing Content-Length header.');
  const size = nameBytes(objectName);
  if (size > MAX_OBJECT_NAME_LENGTH) return textResponse(400, `Object name length of ${size} longer than ${MAX_OBJECT_NAME_LENGTH}`);
  if (headers['content-type'] === undefined) return textResponse(400, 'No content type');
  if (!isUtf8HeaderValue(headers['content-type'])) return textResponse(400, 'Invalid Content-Type');
  const swiftParam = headers['content-type'].split(';').slice(1).some((param) => param.trimStart().startsWith('swift_'));
  // a middleware (SLO, versioned writes) may set swift_bytes itself; a client may not
  if (swiftParam && !opts.contentTypeOverridden) return textResponse(400, 'Invalid Content-Type, swift_* is not a valid parameter name.');
  return checkMetadata(headers, 'object');
}

/** Account or container names taken from headers (Destination, X-Copy-From-Account): not empty, no slash. */
export function checkNameFormat(name: string, kind: 'Account' | 'Container'): SwiftResponse | undefined {
  if (!name) return textResponse(412, `${kind} name cannot be empty`);
  if (name.includes('/')) return textResponse(412, `${kind} name cannot contain slashes`);
  return undefined;
}

/** The listing limit a request asks for: the maximum when absent or not a number, a 412 above it. */
export function listingLimit(query: URLSearchParams, max: number): number | SwiftResponse {
  const given = query.get('limit');
  if (!given || !/^\d+$/.test(given)) return max;
  const limit = Number(given);
  return limit > max ? textResponse(412, `Maximum limit is ${max}`) : limit;
}
