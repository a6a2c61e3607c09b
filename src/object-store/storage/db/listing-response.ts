// What HEAD and GET of an account or container answer (Swift's account and container
// servers): the database's headers with the listing's Content-Type, and for a GET the listing
// itself, or a 204 when it renders empty (a plain-text listing of nothing). The query and the
// format are checked before the database is read, so a bad one is refused even where there is
// no database.
import type { SwiftRequest, SwiftResponse } from '../../pipeline.ts';
import { bare } from '../responses.ts';
import { listingType, renderListing } from './listing-format.ts';
import { listingQuery, type ListingQuery, type Subdir } from './listing.ts';

/** A live database and the headers of its HEAD, or the 404 to answer. */
export type Found<Db> = { db: Db; headers: Record<string, string> } | { missing: SwiftResponse };

export interface Listable<Row> {
  list(query: ListingQuery): Array<Row | Subdir>;
}

/** How one kind of database is listed. */
export interface ListingShape<Row> {
  /** the largest `limit` (above it, a 412) */
  maxLimit: number;
  /** whether `path` is honoured (containers) */
  allowPath: boolean;
  /** XML: the root element (named `name`), each row's element and its fields */
  xml: { tag: string; entryTag: string; name: string; fields: string[] };
  /** a row as the listing shows it */
  entry(row: Row): Record<string, unknown>;
  /** headers a GET adds */
  headers?: Record<string, string>;
}

export function headResponse<Db>(req: SwiftRequest, find: () => Found<Db>): SwiftResponse {
  const type = listingType(req.query, req.headers);
  const found = find();
  if ('missing' in found) return found.missing;
  return bare(204, { ...found.headers, 'content-type': `${type}; charset=utf-8` });
}

export function getResponse<Row>(req: SwiftRequest, find: () => Found<Listable<Row>>, shape: ListingShape<Row>): SwiftResponse {
  const query = listingQuery(req.query, shape.maxLimit, shape.allowPath);
  const type = listingType(req.query, req.headers);
  const found = find();
  if ('missing' in found) return found.missing;
  const entries = found.db.list(query).map((row) => (isSubdir(row) ? { subdir: row.subdir } : shape.entry(row)));
  const body = Buffer.from(renderListing(type, entries, shape.xml));
  const headers = { ...found.headers, ...shape.headers, 'content-type': `${type}; charset=utf-8` };
  if (body.length === 0) return bare(204, headers);
  return { status: 200, headers: { ...headers, 'content-length': String(body.length) }, body };
}

function isSubdir<Row>(row: Row | Subdir): row is Subdir {
  return typeof row === 'object' && row !== null && 'subdir' in row;
}
