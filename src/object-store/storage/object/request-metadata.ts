// What of a request an object server keeps, and the headers of the container update it sends.
import { isObjectTransientSysmeta, isSysOrUserMeta, isUserMeta } from '../header-families.ts';
import type { ObjectMetadata } from './file-format.ts';

/** Headers stored with an object and served back (Swift's default allowed_headers). */
export const ALLOWED_HEADERS = [
  'content-disposition',
  'content-encoding',
  'x-delete-at',
  'x-object-manifest',
  'x-static-large-object',
  'cache-control',
  'content-language',
  'expires',
  'x-robots-tag',
];

/** Whether a stored key is shown on GET/HEAD. */
export function isServedMetadata(key: string): boolean {
  return isSysOrUserMeta('object', key) || isObjectTransientSysmeta(key) || ALLOWED_HEADERS.includes(key);
}

/**
 * The metadata a PUT (`persistent` true: system metadata too) or POST keeps from its
 * headers: user metadata, transient sysmeta, the allowed headers, and whatever a replicating
 * sender lists in X-Backend-Replication-Headers.
 */
export function metadataFromRequest(headers: Record<string, string>, persistent: boolean): ObjectMetadata {
  const metadata: ObjectMetadata = {};
  for (const [key, value] of Object.entries(headers)) {
    if ((persistent ? isSysOrUserMeta('object', key) : isUserMeta('object', key)) || isObjectTransientSysmeta(key)) metadata[key] = value;
  }
  const copied = [...(headers['x-backend-replication-headers'] ?? '').toLowerCase().split(/\s+/).filter(Boolean), ...ALLOWED_HEADERS];
  for (const key of copied) {
    if (headers[key] === undefined || ['content-length', 'etag', 'deleted'].includes(key)) continue;
    // An empty X-Delete-At means none (the proxy refuses one, but a stored "" must never read as "expired at 0").
    if (key === 'x-delete-at' && !headers[key]!.trim()) continue;
    metadata[key] = headers[key]!;
  }
  return metadata;
}

/**
 * Middlewares (SLO, encryption) and EC PUTs override what the container listing shows with
 * X-Object-Sysmeta-Container-Update-Override-* (stored) or X-Backend-Container-Update-Override-*
 * (request only); the sysmeta form wins.
 */
export function applyUpdateOverrides(update: Record<string, string>, ...sources: Record<string, string>[]): void {
  for (const prefix of ['x-backend-container-update-override-', 'x-object-sysmeta-container-update-override-']) {
    for (const source of sources) {
      for (const [key, value] of Object.entries(source)) {
        if (key.startsWith(prefix) && key.length > prefix.length) update[`x-${key.slice(prefix.length)}`] = value;
      }
    }
  }
}
