// The body of a large object (SLO or DLO): its segments fetched one after another through the
// pipeline and streamed out as they arrive, never held whole (Swift's SegmentedIterable).
// The first segment is opened before the response starts, so a missing or changed first
// segment is still answered with a status (409, or 503 when storage fails); a later one can
// only cut the connection, which is what Swift does too.
import { createHash } from 'node:crypto';
import { discardBody, readBody, subrequest, type Handler, type SwiftRequest, type SwiftResponse } from '../pipeline.ts';
import { isSuccess } from '../proxy/responses.ts';
import { unquoteEtag } from '../storage/object/conditional.ts';

/** A stored object, whole or a byte range of it (first/last inclusive, within that object). */
export interface ObjectSegment {
  path: string;
  first?: number;
  last?: number;
  /** checked against the segment's own ETag when given */
  etag?: string;
  /** checked against the segment's size when given */
  size?: number;
}

/** Bytes written into the manifest itself (SLO data segments), already cut to what is needed. */
export interface DataSegment {
  data: Buffer;
}

export type Segment = ObjectSegment | DataSegment;

/** The large object cannot be served as described: 409 before the first byte, a cut connection after. */
export class SegmentError extends Error {
  constructor(
    message: string,
    readonly status: 409 | 503 = 409,
  ) {
    super(message);
  }
}

async function shortBody(res: SwiftResponse): Promise<string> {
  try {
    const text = (await readBody(res.body, 4096)).toString('utf8');
    return text.length <= 60 ? text : `${text.slice(0, 57)}...`;
  } catch {
    return '';
  }
}

async function* segmentChunks(parent: SwiftRequest, next: Handler, seg: ObjectSegment, source: string, name: string): AsyncGenerator<Buffer> {
  const first = seg.first ?? 0;
  const toEnd = seg.last === undefined || (seg.size !== undefined && seg.last === seg.size - 1);
  const ranged = first !== 0 || !toEnd;
  const headers: Record<string, string> = ranged ? { range: `bytes=${first}-${toEnd ? '' : seg.last}` } : {};
  // multipart-manifest=get: the segment is read as the plain object it is stored as
  const res = await next(subrequest(parent, { method: 'GET', path: seg.path, query: { 'multipart-manifest': 'get' }, headers, source }));
  if (!isSuccess(res.status)) {
    const detail = `While processing manifest ${name}, got ${res.status} (${await shortBody(res)}) while retrieving ${seg.path}`;
    throw new SegmentError(detail, res.status >= 500 ? 503 : 409);
  }
  const etag = res.headers.etag === undefined ? undefined : unquoteEtag(res.headers.etag);
  const length = res.headers['content-length'] === undefined ? undefined : Number(res.headers['content-length']);
  if ((seg.etag && etag !== unquoteEtag(seg.etag)) || (seg.size !== undefined && !ranged && length !== seg.size)) {
    discardBody(res);
    throw new SegmentError(`Object segment no longer valid: ${seg.path} etag: ${etag} != ${seg.etag} or ${length} != ${seg.size}.`);
  }
  // A whole segment is checked as it streams: what arrives must be what its headers promised.
  const hash = etag && !ranged ? createHash('md5') : undefined;
  let received = 0;
  const body = res.body;
  if (body !== undefined) {
    for await (const chunk of typeof body === 'string' || Buffer.isBuffer(body) ? [Buffer.from(body)] : body) {
      const buf = chunk as Buffer;
      hash?.update(buf);
      received += buf.length;
      yield buf;
    }
  }
  if (hash) {
    if (length !== undefined && received !== length) {
      throw new SegmentError(`Bad response length for ${seg.path} as part of ${name}: headers had ${length}, but response length was actually ${received}`);
    }
    const actual = hash.digest('hex');
    if (actual !== etag) throw new SegmentError(`Bad MD5 checksum for ${seg.path} as part of ${name}: headers had ${etag}, but object MD5 was actually ${actual}`);
  }
}

/** The bytes of the segments in order. */
export async function* segmentBytes(
  parent: SwiftRequest,
  next: Handler,
  segments: AsyncIterable<Segment> | Iterable<Segment>,
  source: string,
  name: string,
): AsyncGenerator<Buffer> {
  for await (const seg of segments) {
    if ('data' in seg) {
      if (seg.data.length) yield seg.data;
      continue;
    }
    yield* segmentChunks(parent, next, seg, source, name);
  }
}

/**
 * Runs `data` up to its first byte, so a segment that cannot be read throws (SegmentError)
 * while a status can still be sent; the result yields that byte's chunk and then the rest.
 */
export async function opened(data: AsyncGenerator<Buffer>): Promise<AsyncGenerator<Buffer>> {
  const step = await data.next();
  return (async function* () {
    if (!step.done) yield step.value;
    yield* data;
  })();
}

/**
 * Exactly `length` bytes of `data` (all of it when undefined): more or fewer is a SegmentError,
 * which cuts the response rather than let the body disagree with its Content-Length.
 */
export async function* exactly(data: AsyncGenerator<Buffer>, length: number | undefined, name: string): AsyncGenerator<Buffer> {
  let left = length ?? Infinity;
  for await (const chunk of data) {
    if (chunk.length > left) {
      yield chunk.subarray(0, left);
      throw new SegmentError(`Too many bytes for ${name}; truncating`);
    }
    left -= chunk.length;
    yield chunk;
  }
  if (length !== undefined && left > 0) throw new SegmentError(`Expected another ${left} bytes for ${name}; closing connection`);
}
