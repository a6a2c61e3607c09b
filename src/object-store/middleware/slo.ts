// Static large objects (Swift's slo middleware). A manifest PUT with ?multipart-manifest=put
// lists segments that already exist; each is checked (HEAD), and the completed list is stored
// as the manifest object, marked X-Static-Large-Object with the large object's ETag and size in
// sysmeta. A GET or HEAD of the manifest then answers for the whole large object: its segments
// streamed in order, Range across them, nested manifests followed. ?multipart-manifest=get
// reads the manifest itself; DELETE ?multipart-manifest=delete removes the segments too.
import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import type { Capabilities } from '../capabilities.ts';
import { parseSwiftPath } from '../path.ts';
import { discardBody, readBody, subrequest, type Handler, type Middleware, type SwiftRequest, type SwiftResponse } from '../pipeline.ts';
import { isSuccess } from '../proxy/responses.ts';
import { isTrue } from '../storage/header-families.ts';
import { unquoteEtag } from '../storage/object/conditional.ts';
import { parseRangeHeader } from '../storage/object/ranges.ts';
import { splitSwiftBytes } from '../storage/swift-bytes.ts';
import { ETAG_IS_AT, IGNORE_RANGE, withHint } from './backend-hints.ts';
import { largeObjectResponse, unmetCondition, type ByteRange } from './large-object.ts';
import { joinHash, rewriteListing, splitHash } from './listing-rows.ts';
import { bodyResponse } from './responses.ts';
import { segmentBytes, SegmentError, type Segment as BodySegment } from './segments.ts';
import { handleManifestDelete } from './slo-delete.ts';
import { annotate, parseStoredManifest, rawManifest, sloEtag, type Segment } from './slo-manifest.ts';
import { handleManifestPut } from './slo-put.ts';

export const SYSMETA_SLO_ETAG = 'x-object-sysmeta-slo-etag';
export const SYSMETA_SLO_SIZE = 'x-object-sysmeta-slo-size';
const SOURCE = 'SLO';
/** how deep manifests may nest (a manifest of manifests of ...) */
const MAX_NESTING = 10;
/** sub-manifests kept per request, so one used by several ranges is fetched once */
const SUB_MANIFEST_CACHE = 20;

export interface SloOptions {
  /** most object-backed segments a new manifest may list (Swift: max_manifest_segments) */
  maxManifestSegments?: number;
  /** largest manifest body accepted, in bytes (max_manifest_size) */
  maxManifestSize?: number;
  /** seconds between the whitespace a ?heartbeat=on manifest PUT sends while it works (yield_frequency) */
  yieldFrequency?: number;
  /** segment HEADs (on PUT) and DELETEs (on delete) in flight at once */
  concurrency?: number;
  logger?: Logger;
  /** where the /info "slo" section is registered */
  capabilities?: Capabilities;
}

export type SloConfig = Required<Omit<SloOptions, 'logger' | 'capabilities'>> & { logger?: Logger };

export function sloConfig(opts: SloOptions = {}): SloConfig {
  return {
    maxManifestSegments: opts.maxManifestSegments ?? 1000,
    maxManifestSize: opts.maxManifestSize ?? 8 * 1024 * 1024,
    yieldFrequency: opts.yieldFrequency ?? 10,
    concurrency: Math.min(1000, Math.max(1, opts.concurrency ?? 2)),
    logger: opts.logger,
  };
}

export function isSlo(res: SwiftResponse): boolean {
  return isTrue(res.headers['x-static-large-object']);
}

export function slo(opts: SloOptions = {}): Middleware {
  const config = sloConfig(opts);
  opts.capabilities?.register('slo', {
    max_manifest_segments: config.maxManifestSegments,
    max_manifest_size: config.maxManifestSize,
    yield_frequency: config.yieldFrequency,
    // no longer configurable in Swift; reported as 1 for clients that still look
    min_segment_size: 1,
    // ?async=yes needs the object expirer, which this proxy does not run
    allow_async_delete: false,
  });
  return (next) => {
    const self: Handler = async (req) => {
      const path = parseSwiftPath(req.path);
      if (!path?.container) return next(req);
      if (!path.object) return req.method === 'GET' ? withSloEtags(await next(req)) : next(req);
      const manifestParam = req.query.get('multipart-manifest');
      if (req.method === 'PUT' && manifestParam === 'put') return handleManifestPut(req, next, self, config);
      if (req.method === 'DELETE' && manifestParam === 'delete') return handleManifestDelete(req, next, config);
      if (req.method === 'GET' || req.method === 'HEAD') return getOrHead(req, next, config);
      if (req.headers['x-static-large-object'] !== undefined) {
        return bodyResponse(400, 'X-Static-Large-Object is a reserved header. To create a static large object add query param multipart-manifest=put.');
      }
      return next(req);
    };
    return self;
  };
}

/** Container listings carry an SLO's own ETag beside the manifest's (stored as "; slo_etag=" on the row's hash). */
function withSloEtags(res: SwiftResponse): Promise<SwiftResponse> {
  return rewriteListing(res, (row) => {
    const { etag, params } = splitHash(row.hash as string);
    const sloEtag = params.find(([key]) => key === 'slo_etag');
    if (!sloEtag) return;
    row.slo_etag = `"${sloEtag[1]}"`;
    row.hash = joinHash(etag, params.filter((p) => p !== sloEtag));
  });
}

class BadPartNumber extends Error {}

/** ?part-number=N of a GET or HEAD, or undefined; BadPartNumber with Swift's message when unusable. */
function partNumber(req: SwiftRequest): number | undefined {
  const value = req.query.get('part-number');
  if (value === null || value === '') return undefined;
  if (!/^\s*\+?\d+\s*$/.test(value) || Number(value) <= 0) throw new BadPartNumber('Part number must be an integer greater than 0');
  if (parseRangeHeader(req.headers.range)) throw new BadPartNumber('Range requests are not supported with part number queries');
  return Number(value);
}

async function manifestResponse(req: SwiftRequest, res: SwiftResponse, raw: boolean, config: SloConfig): Promise<SwiftResponse> {
  if (!raw || req.method === 'HEAD' || !isSuccess(res.status)) {
    return { ...res, headers: { ...res.headers, 'content-type': 'application/json; charset=utf-8' } };
  }
  const stored = await loadManifest(res, config);
  if (!stored) return bodyResponse(500, 'Unable to load SLO manifest');
  const body = rawManifest(stored);
  const headers: Record<string, string> = { ...res.headers, 'content-length': String(Buffer.byteLength(body)), etag: createHash('md5').update(body).digest('hex') };
  delete headers['content-range'];
  return { status: res.status, headers, body };
}

/** The stored segment list of a manifest response; undefined when it cannot be read. */
async function loadManifest(res: SwiftResponse, config: SloConfig) {
  try {
    // a manifest is at most max_manifest_size when stored; the margin covers a limit lowered since
    return parseStoredManifest(await readBody(res.body, Math.max(config.maxManifestSize, 8 * 1024 * 1024) * 4));
  } catch (err) {
    config.logger?.error({ err }, 'Unable to load SLO manifest');
    return undefined;
  }
}

async function getOrHead(req: SwiftRequest, next: Handler, config: SloConfig): Promise<SwiftResponse> {
  const manifestGet = req.query.get('multipart-manifest') === 'get';
  // Tell the object server a manifest is wanted whole and judged by the large object's ETag.
  const inner: SwiftRequest = manifestGet
    ? req
    : { ...req, headers: withHint(withHint(req.headers, ETAG_IS_AT, SYSMETA_SLO_ETAG), IGNORE_RANGE, 'X-Static-Large-Object') };
  let res = await next(inner);
  if (!isSlo(res)) return res;
  if (manifestGet) return manifestResponse(req, res, req.query.get('format') === 'raw', config);

  let part: number | undefined;
  try {
    part = partNumber(req);
  } catch (err) {
    discardBody(res);
    return bodyResponse(400, (err as Error).message);
  }
  const legacy = !(res.headers[SYSMETA_SLO_ETAG] && /^\d+$/.test(res.headers[SYSMETA_SLO_SIZE] ?? ''));
  const needSegments = req.method === 'GET' || legacy || part !== undefined;
  // A backend that judged the client's Range or conditions against the manifest itself (or a
  // HEAD, which has no manifest body) means asking again, plainly, for the whole manifest.
  if ([206, 304, 412, 416].includes(res.status) || (needSegments && req.method === 'HEAD')) {
    discardBody(res);
    res = await next(subrequest(req, { method: needSegments ? 'GET' : 'HEAD', path: req.path, query: req.query, source: SOURCE }));
    if (!isSlo(res)) {
      discardBody(res);
      return next(inner);
    }
    if (!isSuccess(res.status)) return res;
  }

  const headers: Record<string, string> = { ...res.headers, 'x-manifest-etag': unquoteEtag(res.headers.etag ?? '') };
  if (headers['content-type']) headers['content-type'] = splitSwiftBytes(headers['content-type']).contentType;
  let etag = res.headers[SYSMETA_SLO_ETAG];
  let size = Number(res.headers[SYSMETA_SLO_SIZE]);
  if (!needSegments) {
    discardBody(res);
    headers.etag = `"${etag}"`;
    return largeObjectResponse({ req, headers, total: size, multiRange: true, data: () => emptyData(), name: req.path, logger: config.logger });
  }

  const stored = await loadManifest(res, config);
  if (!stored) return bodyResponse(500, 'Unable to load SLO manifest');
  const segments = annotate(stored);
  if (legacy) {
    etag = sloEtag(stored);
    size = segments.reduce((sum, s) => sum + s.length, 0);
  }
  headers.etag = `"${etag}"`;
  const listing = new SegmentListing(req, next, segments, req.path, config);

  if (part !== undefined) {
    headers['x-parts-count'] = String(segments.length);
    if (part > segments.length) {
      const body = req.method === 'HEAD' ? '' : 'The requested part number is not satisfiable';
      return { status: 416, headers: { ...headers, 'content-length': String(body.length), 'content-range': `bytes */${size}` }, body };
    }
    const start = segments.slice(0, part - 1).reduce((sum, s) => sum + s.length, 0);
    const last = start + segments[part - 1]!.length - 1;
    if (req.method === 'HEAD') {
      return (
        unmetCondition(req, headers) ?? {
          status: 206,
          headers: { ...headers, 'content-length': String(last - start + 1), 'content-range': `bytes ${start}-${last}/${size}` },
        }
      );
    }
    return largeObjectResponse({ req, headers, total: size, range: [[start, last]], multiRange: false, data: (r) => listing.bytes(r, size), name: req.path, logger: config.logger });
  }
  return largeObjectResponse({
    req,
    headers,
    total: size,
    range: parseRangeHeader(req.headers.range),
    multiRange: true,
    data: (range) => listing.bytes(range, size),
    name: req.path,
    logger: config.logger,
  });
}

async function* emptyData(): AsyncGenerator<Buffer> {}

/** The segments a byte range of a large object needs, following nested manifests as it goes. */
class SegmentListing {
  readonly #account: string;
  readonly #version: string;
  readonly #subManifests = new Map<string, Segment[]>();

  constructor(
    readonly req: SwiftRequest,
    readonly next: Handler,
    readonly segments: Segment[],
    readonly name: string,
    readonly config: SloConfig,
  ) {
    const path = parseSwiftPath(req.path)!;
    this.#account = path.account;
    this.#version = path.version;
  }

  /** The bytes of a (half-open) range of the large object, of all of it when undefined. */
  bytes(range: ByteRange | undefined, size: number): AsyncGenerator<Buffer> {
    const { start, end } = range ?? { start: 0, end: size };
    return segmentBytes(this.req, this.next, this.#walk(this.segments, start, end - 1, 1), SOURCE, this.name);
  }

  #objectPath(name: string): string {
    return `/${this.#version}/${this.#account}/${name.replace(/^\/+/, '')}`;
  }

  async *#walk(segments: Segment[], first: number, last: number, depth: number): AsyncGenerator<BodySegment> {
    for (const seg of segments) {
      const length = seg.length;
      if (first >= length) {
        first -= length;
        last -= length;
        continue;
      }
      if (last < 0) return;
      if ('data' in seg) {
        yield { data: seg.data.subarray(Math.max(0, first), Math.min(length - 1, last) + 1) };
      } else {
        const [rangeStart, rangeEnd] = seg.range ? (seg.range.split('-').map(Number) as [number, number]) : [0, length - 1];
        if (seg.sub_slo) {
          if (depth >= MAX_NESTING) throw new SegmentError(`While processing manifest ${this.name}, max recursion depth was exceeded`);
          const sub = await this.#subManifest(seg.name);
          yield* this.#walk(sub, rangeStart + Math.max(0, first), Math.min(rangeEnd, rangeStart + last), depth + 1);
        } else {
          yield {
            path: this.#objectPath(seg.name),
            first: Math.max(0, first) + rangeStart,
            last: Math.min(rangeEnd, rangeStart + last),
            etag: seg.hash,
            size: seg.bytes,
          };
        }
      }
      first -= length;
      last -= length;
    }
  }

  async #subManifest(name: string): Promise<Segment[]> {
    const cached = this.#subManifests.get(name);
    if (cached) return cached;
    const query = new URLSearchParams(this.req.query);
    query.delete('part-number');
    const path = this.#objectPath(name);
    const res = await this.next(subrequest(this.req, { method: 'GET', path, query, source: SOURCE }));
    if (!isSuccess(res.status)) {
      discardBody(res);
      throw new SegmentError(`while fetching ${this.name}, GET of submanifest ${path} failed with status ${res.status}`);
    }
    const stored = await loadManifest(res, this.config);
    if (!stored) throw new SegmentError(`while fetching ${this.name}, JSON-decoding of submanifest ${path} failed`);
    const segments = annotate(stored);
    if (this.#subManifests.size >= SUB_MANIFEST_CACHE) this.#subManifests.delete(this.#subManifests.keys().next().value!);
    this.#subManifests.set(name, segments);
    return segments;
  }
}
