// Container listing rows as middlewares leave notes in them. A row's "hash" can carry
// parameters after the object's ETag ("<etag>; slo_etag=...; symlink_target=c/o"), stored
// there through X-Backend-Container-Update-Override-Etag when the object was written; SLO and
// symlink each turn theirs into fields of the JSON listing.
import { readBody, type SwiftResponse } from '../pipeline.ts';
import { isSuccess } from '../proxy/responses.ts';

/** a listing larger than this is passed through untouched (Swift's MAX_CONTAINER_LISTING_CONTENT_LENGTH) */
const MAX_LISTING_BYTES = 1024 * 10000 * 2;

export type ListingRow = Record<string, unknown>;

/** The ETag in front and the parameters after it, in order. */
export function splitHash(hash: string): { etag: string; params: [string, string][] } {
  const [etag, ...rest] = hash.split(';');
  const params: [string, string][] = [];
  for (const part of rest) {
    const eq = part.indexOf('=');
    if (eq > 0) params.push([part.slice(0, eq).trim(), part.slice(eq + 1).trim()]);
  }
  return { etag: etag!.trim(), params };
}

export function joinHash(etag: string, params: [string, string][]): string {
  return etag + params.map(([key, value]) => `; ${key}=${value}`).join('');
}

/** A JSON container listing with each object row passed through `rewrite`; anything else as it was. */
export async function rewriteListing(res: SwiftResponse, rewrite: (row: ListingRow) => void): Promise<SwiftResponse> {
  const length = Number(res.headers['content-length']);
  const type = (res.headers['content-type'] ?? '').split(';')[0]!.trim();
  if (!isSuccess(res.status) || type !== 'application/json' || !(length <= MAX_LISTING_BYTES)) return res;
  const text = (await readBody(res.body, MAX_LISTING_BYTES)).toString('utf8');
  let listing: unknown;
  try {
    listing = JSON.parse(text);
  } catch {
    return { ...res, body: text };
  }
  if (!Array.isArray(listing)) return { ...res, body: text };
  for (const row of listing as ListingRow[]) if (row && typeof row.hash === 'string') rewrite(row);
  const body = JSON.stringify(listing);
  return { ...res, headers: { ...res.headers, 'content-length': String(Buffer.byteLength(body)) }, body };
}
