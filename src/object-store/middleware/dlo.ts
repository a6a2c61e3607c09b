// Dynamic large objects (Swift's dlo middleware). A manifest is any object with
// X-Object-Manifest: <container>/<prefix>; a GET or HEAD of it answers for the concatenation of
// the objects under that prefix in listing order, read page by page as the body streams. Its
// ETag is the quoted MD5 of their ETags and its length their sum, known up front when the
// listing fits one page; ?multipart-manifest=get reads the manifest object itself.
import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import { parseSwiftPath } from '../path.ts';
import { discardBody, readBody, subrequest, type Handler, type Middleware, type SwiftRequest, type SwiftResponse } from '../pipeline.ts';
import { isSuccess } from '../proxy/responses.ts';
import { unquoteEtag } from '../storage/object/conditional.ts';
import { parseRangeHeader, rangesForLength } from '../storage/object/ranges.ts';
import { IGNORE_RANGE, withHint } from './backend-hints.ts';
import { largeObjectResponse, type ByteRange } from './large-object.ts';
import { unquote } from './quote.ts';
import { bodyResponse, errorPage } from './responses.ts';
import { segmentBytes, SegmentError, type ObjectSegment } from './segments.ts';

const SOURCE = 'DLO';
const LISTING_BYTES = 64 * 1024 * 1024;

export interface DloOptions {
  logger?: Logger;
  /** segments listed per page (default: the container listing limit, 10000); a shorter page is the last */
  pageSize?: number;
}

interface ListedObject {
  name: string;
  bytes: number;
  hash: string;
}

export function dlo(opts: DloOptions = {}): Middleware {
  const pageSize = opts.pageSize ?? 10000;
  return (next) => async (req) => {
    const path = parseSwiftPath(req.path);
    if (!path?.object) return next(req);
    if ((req.method === 'GET' || req.method === 'HEAD') && req.query.get('multipart-manifest') !== 'get') return getOrHead(req, next, pageSize, opts.logger);
    if (req.method === 'PUT' && req.headers['x-object-manifest'] !== undefined && !validManifestValue(req.headers['x-object-manifest'])) {
      return bodyResponse(400, 'X-Object-Manifest must be in the format container/prefix');
    }
    return next(req);
  };
}

function validManifestValue(value: string): boolean {
  const slash = value.indexOf('/');
  if (slash <= 0) return false;
  const prefix = value.slice(slash + 1);
  return prefix !== '' && !value.includes('?') && !value.includes('&') && !prefix.startsWith('/');
}

interface Listing {
  container: string;
  prefix: string;
  pageSize: number;
}

/** One page of the segment container's listing, as the caller; a response when it failed. */
async function listPage(req: SwiftRequest, next: Handler, listing: Listing, marker: string): Promise<ListedObject[] | SwiftResponse> {
  const { version, account } = parseSwiftPath(req.path)!;
  const { container, prefix, pageSize } = listing;
  const query: Record<string, string> = { format: 'json', prefix, limit: String(pageSize) };
  if (marker) query.marker = marker;
  const res = await next(subrequest(req, { method: 'GET', path: `/${version}/${account}/${container}`, query, headers: {}, source: SOURCE }));
  if (!isSuccess(res.status)) return res;
  if (res.status === 204) {
    discardBody(res);
    return [];
  }
  const page: unknown = JSON.parse((await readBody(res.body, LISTING_BYTES)).toString('utf8'));
  if (!Array.isArray(page)) throw new Error('container listing is not a list');
  return (page as Record<string, unknown>[])
    .filter((item) => typeof item.name === 'string')
    .map((item) => ({ name: item.name as string, bytes: Number(item.bytes), hash: String(item.hash ?? '') }));
}

async function getOrHead(req: SwiftRequest, next: Handler, pageSize: number, logger: Logger | undefined): Promise<SwiftResponse> {
  // A manifest is wanted whole: the client's Range is about the large object.
  const inner: SwiftRequest = { ...req, headers: withHint(req.headers, IGNORE_RANGE, 'X-Object-Manifest') };
  let res = await next(inner);
  if (res.headers['x-object-manifest'] === undefined && res.status === 416) {
    // A backend that ranged an (empty) manifest itself: look again without the Range.
    const head = await next(subrequest(req, { method: 'HEAD', path: req.path, query: req.query, source: SOURCE }));
    discardBody(head);
    if (head.headers['x-object-manifest'] === undefined || !isSuccess(head.status)) return res;
    discardBody(res);
    res = head;
  }
  const manifest = res.headers['x-object-manifest'];
  if (manifest === undefined) return res;
  discardBody(res);

  const value = unquote(manifest);
  const slash = value.indexOf('/');
  const listing: Listing = { container: value.slice(0, slash), prefix: value.slice(slash + 1), pageSize };
  const firstPage = slash > 0 ? await listPage(req, next, listing, '') : errorPage(404);
  if (!Array.isArray(firstPage)) {
    if (req.method !== 'HEAD') return firstPage;
    discardBody(firstPage);
    return { status: firstPage.status, headers: firstPage.headers };
  }
  const complete = firstPage.length < pageSize;
  const pageBytes = firstPage.reduce((sum, o) => sum + o.bytes, 0);

  const headers: Record<string, string> = { ...res.headers };
  let total: number | undefined = complete ? pageBytes : undefined;
  let range: ReturnType<typeof parseRangeHeader>;
  const specs = parseRangeHeader(req.headers.range);
  if (specs?.length === 1) {
    const [start, end] = specs[0]!;
    const rangeEnd = start === undefined || end === undefined ? Infinity : end + 1;
    // A range within the first page can be served without the rest of the listing; a suffix
    // or open range needs the whole listing, so with more pages the range is ignored.
    if (complete || rangeEnd < pageBytes) {
      if (rangesForLength(specs, pageBytes)?.length === 0) {
        return errorPage(416, complete ? { 'accept-ranges': 'bytes', 'content-range': `bytes */${pageBytes}` } : { 'accept-ranges': 'bytes' });
      }
      range = specs;
      total = pageBytes;
    }
  }
  if (complete) {
    const md5 = createHash('md5');
    for (const o of firstPage) md5.update(unquoteEtag(o.hash));
    headers.etag = `"${md5.digest('hex')}"`;
  }

  const data = (r: ByteRange | undefined) => {
    const segments = segmentListing(req, next, listing, firstPage, r?.start ?? 0, r === undefined ? Infinity : r.end - 1);
    return segmentBytes(req, next, segments, SOURCE, req.path);
  };
  return largeObjectResponse({ req, headers, total, range, multiRange: false, data, name: req.path, logger });
}

/** The segments covering bytes first..last (inclusive) of the large object, page after page. */
async function* segmentListing(req: SwiftRequest, next: Handler, listing: Listing, firstPage: ListedObject[], first: number, last: number): AsyncGenerator<ObjectSegment> {
  const { version, account } = parseSwiftPath(req.path)!;
  const { container, pageSize } = listing;
  let page = firstPage;
  for (;;) {
    for (const o of page) {
      if (first >= o.bytes) {
        first = Math.max(first - o.bytes, -1);
        last = Math.max(last - o.bytes, -1);
        continue;
      }
      if (last < 0) return;
      // no ETag or size to check: a DLO only promises names under a prefix
      yield {
        path: `/${version}/${account}/${container}/${o.name}`,
        first: first <= 0 ? undefined : first,
        last: last >= o.bytes - 1 ? undefined : last,
      };
      first = Math.max(first - o.bytes, -1);
      last = Math.max(last - o.bytes, -1);
    }
    if (page.length < pageSize || last < 0) return;
    const nextPage = await listPage(req, next, listing, page[page.length - 1]!.name);
    if (!Array.isArray(nextPage)) {
      discardBody(nextPage);
      throw new SegmentError(`Got status ${nextPage.status} listing container /${account}/${container}`);
    }
    page = nextPage;
  }
}
