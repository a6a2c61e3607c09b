// Static large object manifests: what a client may PUT with ?multipart-manifest=put, what is
// stored (the client's list completed with each segment's real size, ETag, type and date),
// the large object's ETag computed from it, and the "raw" form ?multipart-manifest=get&format=raw
// gives back. The rules and messages are Swift's (swift/common/middleware/slo.py).
import { createHash } from 'node:crypto';
import { parseRangeHeader, rangesForLength } from '../storage/object/ranges.ts';
import { listedTypeAndSize } from '../storage/swift-bytes.ts';
import type { RangeSpecs } from './large-object.ts';

/** A segment backed by an object, as the client described it. */
export interface PathSegmentInput {
  path: string;
  etag?: string | null;
  size_bytes?: number | null;
  /** the single range asked for, if any (a one-spec Range) */
  range?: RangeSpecs;
}

/** Bytes inlined in the manifest (base64, re-encoded with standard padding). */
export interface DataSegmentInput {
  data: string;
}

export type SegmentInput = PathSegmentInput | DataSegmentInput;

/** An object segment as stored in the manifest object. */
export interface StoredObjectSegment {
  name: string;
  bytes: number;
  hash: string;
  content_type: string;
  last_modified: string;
  /** "first-last", both inclusive, only when less than the whole object */
  range?: string;
  /** the segment is itself a static large object */
  sub_slo?: boolean;
}

export type StoredSegment = StoredObjectSegment | { data: string };

/** A stored segment with its length in the large object worked out (and inline data decoded). */
export type Segment = (StoredObjectSegment & { length: number }) | { data: Buffer; length: number };

export class ManifestInputError extends Error {}

const SEGMENT_KEYS: Record<'data' | 'path', string[]> = { data: [], path: ['range', 'etag', 'size_bytes'] };

/** Python's int() on a JSON value: integers, integral strings (with "_" separators) and truncated floats. */
function toInt(value: unknown): number | undefined {
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (typeof value === 'number') return Number.isFinite(value) ? Math.trunc(value) : undefined;
  if (typeof value === 'string' && /^\s*[+-]?\d+(_\d+)*\s*$/.test(value)) return Number(value.replace(/_/g, ''));
  return undefined;
}

/** Strict base64 (Swift's strict_b64decode): only the alphabet, and enough padding. */
export function strictBase64(value: unknown): Buffer | undefined {
  if (typeof value !== 'string') return undefined;
  const core = value.replace(/^=+|=+$/g, '');
  if (!/^[A-Za-z0-9+/]*$/.test(core) || core.length % 4 === 1) return undefined;
  const trailing = value.length - value.replace(/=+$/, '').length;
  if (trailing < (4 - (core.length % 4)) % 4) return undefined;
  return Buffer.from(core, 'base64');
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Checks a manifest PUT body. `requestPath` is the manifest's own /v1/<account>/<container>/<object>.
 * Every problem found is reported at once: a ManifestInputError whose message is the 400 body.
 */
export function parseManifestInput(body: Buffer, requestPath: string): SegmentInput[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    throw new ManifestInputError('Manifest must be valid JSON.\n');
  }
  if (!Array.isArray(parsed)) throw new ManifestInputError('Manifest must be a list.\n');
  const [, version, account] = requestPath.split('/');

  const errors: string[] = [];
  const segments: SegmentInput[] = [];
  parsed.forEach((item: unknown, index) => {
    const problem = (text: string) => errors.push(`Index ${index}: ${text}`);
    if (!isRecord(item)) return problem('not a JSON object');
    const type = (['data', 'path'] as const).find((key) => key in item);
    if (!type) return problem("expected keys to include one of 'data' or 'path'");
    const extraneous = Object.keys(item).filter((k) => k !== type && !SEGMENT_KEYS[type].includes(k)).sort();
    if (extraneous.length) return problem(`extraneous keys ${extraneous.map((k) => JSON.stringify(k)).join(', ')}`);

    if (type === 'data') {
      const data = strictBase64(item.data);
      if (!data) return problem('data must be valid base64');
      if (data.length < 1) return problem('too small; each segment must be at least 1 byte.');
      segments.push({ data: data.toString('base64') });
      return;
    }

    const { path, etag } = item;
    if (typeof path !== 'string') return problem('"path" must be a string');
    if (!(etag === undefined || etag === null || typeof etag === 'string')) return problem('"etag" must be a string or null (if provided)');
    if (!path.replace(/^\/+|\/+$/g, '').includes('/')) return problem('path does not refer to an object. Path must be of the form /container/object.');
    const segment: PathSegmentInput = { path, etag: etag as string | null | undefined };
    if (item.size_bytes !== undefined && item.size_bytes !== null) {
      const size = toInt(item.size_bytes);
      if (size === undefined) return problem('invalid size_bytes');
      if (size < 1 && index !== parsed.length - 1) return problem('too small; each segment must be at least 1 byte.');
      segment.size_bytes = size;
    }
    if (`/${version}/${account}/${path.replace(/^\/+/, '')}` === requestPath) return problem('manifest must not include itself as a segment');
    if (item.range) {
      const specs = typeof item.range === 'string' ? parseRangeHeader(`bytes=${item.range}`) : undefined;
      if (!specs) return problem('invalid range');
      if (specs.length > 1) return problem('multiple ranges (only one allowed)');
      // Told the object's size, the range can be checked now; a wrong size is caught on HEAD.
      if (segment.size_bytes !== undefined && segment.size_bytes !== null && rangesForLength(specs, segment.size_bytes)?.length !== 1) {
        return problem('unsatisfiable range');
      }
      segment.range = specs;
    }
    segments.push(segment);
  });
  if (parsed.length && parsed.every((item) => isRecord(item) && 'data' in item)) {
    errors.push('Inline data segments require at least one object-backed segment.');
  }
  if (errors.length) throw new ManifestInputError(errors.map((e) => `${e}\n`).join(''));
  return segments;
}

/** The large object's ETag: the MD5 of its segments' ETags (with "etag:range;" for partial ones). */
export function sloEtag(segments: StoredSegment[]): string {
  const md5 = createHash('md5');
  for (const seg of segments) {
    if ('data' in seg) md5.update(createHash('md5').update(Buffer.from(seg.data, 'base64')).digest('hex'));
    else if (seg.range) md5.update(`${seg.hash}:${seg.range};`);
    else md5.update(seg.hash);
  }
  return md5.digest('hex');
}

/** A stored manifest body; throws when it is not one (a damaged manifest is a 500 in Swift). */
export function parseStoredManifest(body: Buffer): StoredSegment[] {
  const parsed: unknown = JSON.parse(body.toString('utf8'));
  if (!Array.isArray(parsed) || !parsed.every(isRecord)) throw new Error('manifest is not a list of segments');
  return parsed as unknown as StoredSegment[];
}

/** Each stored segment with its length in the large object. */
export function annotate(segments: StoredSegment[]): Segment[] {
  return segments.map((seg) => {
    if ('data' in seg) {
      const data = Buffer.from(seg.data, 'base64');
      return { data, length: data.length };
    }
    let bytes = Number(seg.bytes);
    // a nested manifest listed in an old manifest may carry its real size on its type
    if (seg.sub_slo && typeof seg.content_type === 'string') bytes = listedTypeAndSize(seg.content_type, bytes).bytes;
    if (seg.range) {
      const [first, last] = seg.range.split('-').map(Number) as [number, number];
      return { ...seg, bytes, length: last - first + 1 };
    }
    return { ...seg, bytes, length: bytes };
  });
}

function sortedKeys(record: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.keys(record).sort().map((k) => [k, record[k]]));
}

/** The manifest in the form it was PUT (path, etag, size_bytes, range), keys sorted. */
export function rawManifest(segments: StoredSegment[]): string {
  return JSON.stringify(
    segments.map((seg) => {
      if ('data' in seg) return sortedKeys(seg);
      const raw: Record<string, unknown> = { path: seg.name, size_bytes: seg.bytes, etag: seg.hash };
      if (seg.range !== undefined) raw.range = seg.range;
      return sortedKeys(raw);
    }),
  );
}
