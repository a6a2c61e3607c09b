// Conditional GET/HEAD as Swift's swob decides it, in this order: If-None-Match (304),
// If-Match (412; "*" on a missing object too), If-Modified-Since (304), If-Unmodified-Since (412).
import type { ObjectMetadata } from './file-format.ts';

/** The tags of an If-Match / If-None-Match header, quotes removed. */
export function parseEtagList(header: string | undefined): Set<string> | undefined {
  if (header === undefined) return undefined;
  const tags = new Set<string>();
  for (const raw of header.split(',')) {
    const tag = raw.trim();
    if (tag) tags.add(unquoteEtag(tag));
  }
  return tags;
}

export function unquoteEtag(tag: string): string {
  return tag.length > 1 && tag.startsWith('"') && tag.endsWith('"') ? tag.slice(1, -1) : tag;
}

const matches = (tags: Set<string>, etag: string) => tags.has('*') || tags.has(etag);

/** An HTTP date as whole seconds; undefined when unparseable (the header is then ignored). */
function httpDateSeconds(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : Math.floor(ms / 1000);
}

export interface ConditionalTarget {
  /** undefined when the object does not exist */
  etag?: string;
  /** Last-Modified in whole seconds */
  lastModified?: number;
}

/** 304 or 412 when the request's conditions turn the response into an empty one; else undefined. */
export function conditionalStatus(headers: Record<string, string>, target: ConditionalTarget): 304 | 412 | undefined {
  const ifNoneMatch = parseEtagList(headers['if-none-match']);
  const ifMatch = parseEtagList(headers['if-match']);
  if (target.etag !== undefined && ifNoneMatch && matches(ifNoneMatch, target.etag)) return 304;
  if (target.etag !== undefined && ifMatch && !matches(ifMatch, target.etag)) return 412;
  if (target.etag === undefined && ifMatch?.has('*')) return 412;
  if (target.lastModified !== undefined) {
    const since = httpDateSeconds(headers['if-modified-since']);
    if (since !== undefined && target.lastModified <= since) return 304;
    const unmodifiedSince = httpDateSeconds(headers['if-unmodified-since']);
    if (unmodifiedSince !== undefined && target.lastModified > unmodifiedSince) return 412;
  }
  return undefined;
}

/**
 * The ETag conditions compare against: the first metadata key named in X-Backend-Etag-Is-At
 * that the object has (middlewares that store a different body, e.g. encryption, point at
 * the client's ETag), else the stored ETag.
 */
export function conditionalEtag(headers: Record<string, string>, metadata: ObjectMetadata): string | undefined {
  for (const key of (headers['x-backend-etag-is-at'] ?? '').split(',')) {
    const value = metadata[key.trim().toLowerCase()];
    if (key.trim() && value !== undefined) return value;
  }
  return metadata.etag;
}
