// Container and account listings (Swift's list_objects_iter / list_containers_iter): rows
// in name order (or reversed) after `marker` and before `end_marker`, under `prefix`, with
// names that continue past `delimiter` folded into one {subdir} entry each. `path` (containers
// only) lists the direct children of a pseudo-directory. The database is asked for pages of
// rows; after each subdir the next page starts past everything that subdir covers.
import { listingLimit } from '../../constraints.ts';
import { HttpError } from '../responses.ts';

export interface ListingQuery {
  limit: number;
  marker?: string;
  endMarker?: string;
  prefix?: string;
  delimiter?: string;
  path?: string;
  reverse: boolean;
}

/** Bounds of one page: names below `lt`, above `gt` (or from `gte`), in order, at most `limit`. */
export interface PageBounds {
  lt?: string;
  gt?: string;
  gte?: string;
  limit: number;
  reverse: boolean;
}

export interface Subdir {
  subdir: string;
}

/** Names compared as SQLite compares TEXT (UTF-8 bytes), not as JavaScript compares strings (UTF-16 units). */
export function compareNames(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/** The string with its last character moved one code point up: the first name after every name starting with `s`. */
function bumpLast(s: string): string {
  const chars = [...s];
  const last = chars.pop()!;
  return chars.join('') + String.fromCodePoint(last.codePointAt(0)! + 1);
}

/** The listing query of a GET's parameters (Swift's validate_container_params); a limit above `maxLimit` is a 412. */
export function listingQuery(query: URLSearchParams, maxLimit: number, allowPath: boolean): ListingQuery {
  const limit = listingLimit(query, maxLimit);
  if (typeof limit !== 'number') throw new HttpError(limit);
  const reverse = query.get('reverse');
  return {
    limit,
    marker: query.get('marker') || undefined,
    endMarker: query.get('end_marker') || undefined,
    prefix: query.get('prefix') ?? undefined,
    delimiter: query.get('delimiter') || undefined,
    path: allowPath ? (query.get('path') ?? undefined) : undefined,
    reverse: reverse !== null && ['true', '1', 'yes', 'on', 't', 'y'].includes(reverse.toLowerCase()),
  };
}

export function listWithDelimiter<Row extends { name: string }>(query: ListingQuery, fetchPage: (bounds: PageBounds) => Row[]): Array<Row | Subdir> {
  const { limit, reverse } = query;
  let marker = reverse ? query.endMarker : query.marker;
  let endMarker = reverse ? query.marker : query.endMarker;
  let prefix = query.prefix || undefined;
  let delimiter = query.delimiter;
  let path = query.path;
  if (path !== undefined) {
    if (path) path = `${path.replace(/\/+$/, '')}/`;
    prefix = path;
    delimiter = '/';
  } else if (delimiter && prefix === undefined) {
    prefix = '';
  }
  const endPrefix = prefix ? bumpLast(prefix) : undefined;
  const originalMarker = marker;
  const results: Array<Row | Subdir> = [];
  let fromMarkerInclusive = false;

  while (results.length < limit) {
    const bounds: PageBounds = { limit: limit - results.length, reverse };
    if (endMarker && (!prefix || compareNames(endMarker, endPrefix!) < 0)) bounds.lt = endMarker;
    else if (prefix) bounds.lt = endPrefix;
    if (fromMarkerInclusive) {
      bounds.gte = marker;
      fromMarkerInclusive = false;
    } else if (marker && (!prefix || compareNames(marker, prefix) >= 0)) bounds.gt = marker;
    else if (prefix) bounds.gte = prefix;

    const rows = fetchPage(bounds);
    if (prefix === undefined || !delimiter) return rows;
    if (rows.length === 0) break;
    let restarted = false;
    for (const row of rows) {
      const name = row.name;
      if (reverse) endMarker = name;
      else marker = name;
      if (results.length >= limit) return results;
      const end = name.indexOf(delimiter, prefix.length);
      if (path !== undefined) {
        if (name === path) continue;
        // A deeper name: skip its whole pseudo-directory, which path listings do not show.
        if (end >= 0 && name.length > end + delimiter.length) {
          if (reverse) endMarker = name.slice(0, end + delimiter.length);
          else marker = name.slice(0, end) + bumpLast(delimiter);
          restarted = true;
          break;
        }
      } else if (end >= 0) {
        const subdir = name.slice(0, end + delimiter.length);
        if (reverse) endMarker = subdir;
        else {
          marker = name.slice(0, end) + bumpLast(delimiter);
          fromMarkerInclusive = true;
        }
        if (subdir !== originalMarker) results.push({ subdir });
        restarted = true;
        break;
      }
      results.push(row);
    }
    if (!restarted && rows.length < bounds.limit) break;
  }
  return results;
}

/** The WHERE clause (after "deleted = 0 AND") and arguments of a page. */
export function pageSql(bounds: PageBounds): { where: string; args: Array<string | number>; order: string } {
  const conditions: string[] = [];
  const args: Array<string | number> = [];
  if (bounds.lt !== undefined) {
    conditions.push('name < ?');
    args.push(bounds.lt);
  }
  if (bounds.gt !== undefined) {
    conditions.push('name > ?');
    args.push(bounds.gt);
  }
  if (bounds.gte !== undefined) {
    conditions.push('name >= ?');
    args.push(bounds.gte);
  }
  return { where: conditions.length ? ` AND ${conditions.join(' AND ')}` : '', args, order: bounds.reverse ? 'DESC' : 'ASC' };
}
