// The response to a GET or HEAD of a large object (SLO or DLO), shaped as swob shapes a
// conditional, ranged response: 304/412 for unmet conditions, 200 for the whole object,
// 206 for one range (Content-Range) or several (multipart/byteranges, SLO only), 416 when no
// range can be satisfied. The body comes from the segments and starts streaming at once.
import { Readable } from 'node:stream';
import type { Logger } from 'pino';
import type { SwiftRequest, SwiftResponse } from '../pipeline.ts';
import { conditionalStatus, unquoteEtag } from '../storage/object/conditional.ts';
import { contentRange, multipartByteranges, rangesForLength, type ByteRange } from '../storage/object/ranges.ts';
import { errorPage } from './responses.ts';
import { exactly, opened, SegmentError } from './segments.ts';

export type { ByteRange };
/** The byte-range-specs of a Range header, as parseRangeHeader gives them. */
export type RangeSpecs = Parameters<typeof rangesForLength>[0];

export interface LargeObjectResponseOptions {
  req: SwiftRequest;
  /** the manifest's headers with the large object's ETag; Content-Length/Content-Range are set here */
  headers: Record<string, string>;
  /** the large object's size; undefined when it cannot be known up front (a DLO of many pages) */
  total: number | undefined;
  /** the Range the response honours (undefined: the whole object) */
  range?: RangeSpecs;
  /** several ranges answered as multipart/byteranges; otherwise only a single range is honoured */
  multiRange: boolean;
  /** the bytes of one range (half-open), or of the whole object when undefined */
  data: (range: ByteRange | undefined) => AsyncGenerator<Buffer>;
  name: string;
  logger?: Logger;
}

/** Whole seconds of an HTTP date header, for conditions. */
function seconds(value: string | undefined): number | undefined {
  const ms = value === undefined ? NaN : Date.parse(value);
  return Number.isNaN(ms) ? undefined : Math.floor(ms / 1000);
}

/** The 304/412 a successful response with these headers turns into under the request's conditions. */
export function unmetCondition(req: SwiftRequest, headers: Record<string, string>): SwiftResponse | undefined {
  const etag = headers.etag === undefined ? undefined : unquoteEtag(headers.etag);
  const status = conditionalStatus(req.headers, { etag, lastModified: seconds(headers['last-modified']) });
  return status === undefined ? undefined : { status, headers: { ...headers, 'content-length': '0' }, body: '' };
}

export async function largeObjectResponse(opts: LargeObjectResponseOptions): Promise<SwiftResponse> {
  const { req, total } = opts;
  const headers: Record<string, string> = { ...opts.headers, 'accept-ranges': 'bytes' };
  delete headers['content-length'];
  delete headers['content-range'];
  if (total !== undefined) headers['content-length'] = String(total);

  const unmet = unmetCondition(req, headers);
  if (unmet) return unmet;
  if (req.method === 'HEAD') return { status: 200, headers };

  // an empty object has no bytes to range over: swob answers it whole
  let ranges = total ? rangesForLength(opts.range, total) : undefined;
  if (ranges?.length === 0) return errorPage(416, { 'accept-ranges': 'bytes', 'content-range': `bytes */${total}` });
  if (ranges && ranges.length > 1 && !opts.multiRange) ranges = undefined;
  const name = opts.name;
  const stream = (data: AsyncGenerator<Buffer>) => {
    const body = Readable.from(data, { objectMode: false });
    body.once('error', (err) => opts.logger?.error({ err, manifest: name }, 'large object response cut short'));
    return body;
  };

  try {
    if (ranges === undefined) {
      const data = await opened(opts.data(undefined));
      return { status: 200, headers, body: stream(exactly(data, total, name)) };
    }
    const lengthOf = (r: ByteRange) => r.end - r.start;
    if (ranges.length === 1) {
      const range = ranges[0]!;
      const data = await opened(opts.data(range));
      headers['content-length'] = String(lengthOf(range));
      headers['content-range'] = contentRange(range, total!);
      return { status: 206, headers, body: stream(exactly(data, lengthOf(range), name)) };
    }
    const multipart = multipartByteranges(ranges, headers['content-type'] ?? 'application/octet-stream', total!);
    const first = ranges[0]!;
    const firstData = await opened(opts.data(first));
    const body = multipart.body((r) => exactly(r === first ? firstData : opts.data(r), lengthOf(r), name));
    headers['content-type'] = multipart.contentType;
    headers['content-length'] = String(multipart.size);
    return { status: 206, headers, body: stream(body) };
  } catch (err) {
    if (!(err instanceof SegmentError)) throw err;
    opts.logger?.warn({ manifest: name, reason: err.message }, 'large object unavailable');
    return errorPage(err.status);
  }
}
