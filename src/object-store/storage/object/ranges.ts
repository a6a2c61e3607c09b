// Range requests as Swift's swob serves them: a syntactically bad Range header is ignored
// (whole object, 200); ranges that all fall outside the object are a 416; one range is a
// plain 206 with Content-Range; several are a multipart/byteranges 206. Requests for many
// or heavily overlapping ranges are refused (416), per RFC 7233's warning.
import { randomBytes } from 'node:crypto';

export interface ByteRange {
  /** first byte */
  start: number;
  /** one past the last byte */
  end: number;
}

type Spec = [start: number | undefined, end: number | undefined];

const MAX_RANGES = 50;
const MAX_OVERLAPS = 2;
const MAX_NONASCENDING = 8;

/** The byte-range-specs of a Range header; undefined when the header must be ignored. */
export function parseRangeHeader(header: string | undefined): Spec[] | undefined {
  if (!header) return undefined;
  const value = header.replace(/ /g, '');
  if (!value.toLowerCase().startsWith('bytes=')) return undefined;
  const specs: Spec[] = [];
  for (const spec of value.slice(6).split(',')) {
    const dash = spec.indexOf('-');
    if (dash < 0) return undefined;
    const first = spec.slice(0, dash);
    const last = spec.slice(dash + 1);
    if ((first && !/^\d+$/.test(first)) || (last && !/^\d+$/.test(last))) return undefined;
    const start = first ? Number(first) : undefined;
    const end = last ? Number(last) : undefined;
    if (start === undefined && end === undefined) return undefined;
    if (start !== undefined && end !== undefined && end < start) return undefined;
    specs.push([start, end]);
  }
  return specs;
}

/**
 * The ranges to serve of an object of `length` bytes: undefined to ignore the header, an
 * empty list for 416, else the (half-open) ranges.
 */
export function rangesForLength(specs: Spec[] | undefined, length: number): ByteRange[] | undefined {
  if (!specs || specs.length === 0) return undefined;
  const ranges: ByteRange[] = [];
  for (const [start, end] of specs) {
    if (start === undefined) {
      if (end === 0) continue; // bytes=-0 asks for nothing
      ranges.push({ start: Math.max(0, length - end!), end: length });
    } else if (start < length) {
      ranges.push({ start, end: end === undefined ? length : Math.min(end + 1, length) });
    }
  }
  if (ranges.length > MAX_RANGES) return [];
  let overlaps = 0;
  for (let i = 0; i < ranges.length; i++) {
    for (let j = i + 1; j < ranges.length; j++) {
      const a = ranges[i]!;
      const b = ranges[j]!;
      if (overlapping(a, b) && ++overlaps > MAX_OVERLAPS) return [];
    }
  }
  const ascending = ranges.every((range, i) => i === 0 || ranges[i - 1]!.start <= range.start);
  if (!ascending && ranges.length >= MAX_NONASCENDING) return [];
  return ranges;
}

/** swob's test: one range has an end point strictly inside the other (identical ranges do not count). */
function overlapping(a: ByteRange, b: ByteRange): boolean {
  const inside = (x: number, r: ByteRange) => r.start < x && x < r.end;
  return inside(b.start, a) || inside(b.end, a) || inside(a.start, b) || inside(a.end, b);
}

export function contentRange(range: ByteRange, length: number): string {
  return `bytes ${range.start}-${range.end - 1}/${length}`;
}

/** A multipart/byteranges body: its Content-Type, exact length, and the parts in order. */
export function multipartByteranges(ranges: ByteRange[], contentType: string, length: number) {
  const boundary = randomBytes(16).toString('hex');
  const heads = ranges.map((range) => Buffer.from(`--${boundary}\r\nContent-Type: ${contentType}\r\nContent-Range: ${contentRange(range, length)}\r\n\r\n`));
  const tail = Buffer.from(`--${boundary}--`);
  const size = heads.reduce((sum, head, i) => sum + head.length + (ranges[i]!.end - ranges[i]!.start) + 2, 0) + tail.length;
  return {
    contentType: `multipart/byteranges;boundary=${boundary}`,
    size,
    async *body(read: (range: ByteRange) => AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
      for (let i = 0; i < ranges.length; i++) {
        yield heads[i]!;
        yield* read(ranges[i]!);
        yield Buffer.from('\r\n');
      }
      yield tail;
    },
  };
}
