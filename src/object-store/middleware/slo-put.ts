// PUT ?multipart-manifest=put: the client's segment list is checked (every segment HEADed as
// the caller, so a segment they cannot read cannot be referenced) and stored, completed, as the
// manifest object. With ?heartbeat=on the answer is a 202 at once, whitespace while the HEADs
// run, and the real status in the report body.
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { parseSwiftPath } from '../path.ts';
import { BodyTooLargeError, discardBody, readBody, subrequest, type Handler, type SwiftRequest, type SwiftResponse } from '../pipeline.ts';
import { guessContentType } from '../proxy/mime.ts';
import { isSuccess } from '../proxy/responses.ts';
import { isTrue } from '../storage/header-families.ts';
import { unquoteEtag } from '../storage/object/conditional.ts';
import { rangesForLength } from '../storage/object/ranges.ts';
import { mapLimit } from './concurrency.ts';
import { quote } from './quote.ts';
import { heartbeatBody, reportBody, reportFormat } from './report.ts';
import { bodyResponse, errorPage, plainResponse, reasonAndExplanation, statusLine } from './responses.ts';
import { ManifestInputError, parseManifestInput, sloEtag, type PathSegmentInput, type StoredObjectSegment, type StoredSegment } from './slo-manifest.ts';
import { SYSMETA_SLO_ETAG, SYSMETA_SLO_SIZE, type SloConfig } from './slo.ts';

const SOURCE = 'SLO';
const OVERRIDE_ETAG = 'x-backend-container-update-override-etag';

type Problem = [name: string, reason: string];

type Outcome = { problems: Problem[] } | { etagMismatch: true } | { stored: SwiftResponse; etag: string };

/** "2024-05-01T12:00:00.000000", the last_modified form of manifests and listings. */
function manifestDate(lastModified: string | undefined): string {
  const ms = lastModified === undefined ? NaN : Date.parse(lastModified);
  return `${new Date(Number.isNaN(ms) ? Date.now() : ms).toISOString().slice(0, 19)}.000000`;
}

/** Checks one object segment against its HEAD: what it adds to the large object, or why it cannot. */
function checkSegment(seg: PathSegmentInput, head: SwiftResponse, mayBeEmpty: boolean, problems: Problem[]): { length: number; stored?: StoredObjectSegment } {
  const name = quote(seg.path);
  if (!isSuccess(head.status)) {
    problems.push([name, statusLine(head.status)]);
    return { length: 0 };
  }
  const size = Number(head.headers['content-length'] ?? 0);
  const etag = unquoteEtag(head.headers.etag ?? '');
  let length = size;
  let range: string | undefined;
  if (seg.range) {
    const ranges = rangesForLength(seg.range, size) ?? [];
    if (ranges.length === 0) problems.push([name, 'Unsatisfiable Range']);
    else if (ranges[0]!.start !== 0 || ranges[0]!.end !== size) {
      range = `${ranges[0]!.start}-${ranges[0]!.end - 1}`;
      length = ranges[0]!.end - ranges[0]!.start;
    }
  }
  if (length < 1 && !mayBeEmpty) problems.push([name, 'Too small; each segment must be at least 1 byte.']);
  if (seg.size_bytes !== undefined && seg.size_bytes !== null && seg.size_bytes !== size) problems.push([name, 'Size Mismatch']);
  if (seg.etag !== undefined && seg.etag !== null && seg.etag !== etag) problems.push([name, 'Etag Mismatch']);
  const stored: StoredObjectSegment = {
    name: `/${seg.path.replace(/^\/+/, '')}`,
    bytes: size,
    hash: etag,
    content_type: (head.headers['content-type'] ?? '').split(';')[0]!,
    last_modified: manifestDate(head.headers['last-modified']),
  };
  if (range !== undefined) stored.range = range;
  if (isTrue(head.headers['x-static-large-object'])) stored.sub_slo = true;
  return { length, stored };
}

export async function handleManifestPut(req: SwiftRequest, next: Handler, self: Handler, config: SloConfig): Promise<SwiftResponse> {
  const path = parseSwiftPath(req.path)!;
  if (req.headers['x-copy-from']) return bodyResponse(405, 'Multipart Manifest PUTs cannot be COPY requests');
  const declared = req.headers['content-length'];
  if (declared === undefined && (req.headers['transfer-encoding'] ?? '').toLowerCase() !== 'chunked') return errorPage(411);
  const tooLarge = () => bodyResponse(413, `Manifest File > ${config.maxManifestSize} bytes`);
  if (Number(declared) > config.maxManifestSize) return tooLarge();
  let input;
  try {
    input = parseManifestInput(await readBody(req.body, config.maxManifestSize), req.path);
  } catch (err) {
    if (err instanceof BodyTooLargeError) return tooLarge();
    if (err instanceof ManifestInputError) return plainResponse(400, err.message);
    throw err;
  }
  if (input.filter((s) => 'path' in s).length > config.maxManifestSegments) {
    return bodyResponse(413, `Number of object-backed segments must be <= ${config.maxManifestSegments}`);
  }
  // a report is written even when Accept takes no format (or cannot be read)
  const format = reportFormat(req.headers.accept) ?? 'text/plain';

  const verifyAndStore = async (): Promise<Outcome> => {
    // Each distinct segment is HEADed once, through SLO itself so a nested manifest reports its
    // whole size and ETag.
    const paths = [...new Set(input.flatMap((s) => ('path' in s ? [s.path] : [])))];
    const heads = new Map<string, SwiftResponse>();
    await mapLimit(paths, config.concurrency, async (segPath) => {
      const head = await self(subrequest(req, { method: 'HEAD', path: `/${path.version}/${path.account}/${segPath.replace(/^\/+/, '')}`, headers: {}, source: SOURCE }));
      discardBody(head);
      heads.set(segPath, head);
    });
    const problems: Problem[] = [];
    const stored: StoredSegment[] = [];
    let total = 0;
    input.forEach((seg, index) => {
      if ('data' in seg) {
        stored.push(seg);
        total += Buffer.from(seg.data, 'base64').length;
        return;
      }
      const checked = checkSegment(seg, heads.get(seg.path)!, index === input.length - 1, problems);
      total += checked.length;
      if (checked.stored) stored.push(checked.stored);
    });
    if (problems.length) return { problems };
    const etag = sloEtag(stored);
    const clientEtag = req.headers.etag === undefined ? undefined : unquoteEtag(req.headers.etag);
    if (clientEtag && clientEtag !== etag) return { etagMismatch: true };

    const manifest = Buffer.from(JSON.stringify(stored));
    const manifestEtag = createHash('md5').update(manifest).digest('hex');
    const headers: Record<string, string> = { ...req.headers };
    for (const name of ['content-length', 'transfer-encoding', 'etag', 'x-detect-content-type']) delete headers[name];
    // Listings show the large object's ETag beside the manifest's; a middleware above may have set the base.
    const [base, ...params] = (headers[OVERRIDE_ETAG] ?? '').split(';');
    const contentType = req.headers['content-type'] || guessContentType(path.object!) || 'application/octet-stream';
    Object.assign(headers, {
      'content-length': String(manifest.length),
      etag: manifestEtag,
      'x-static-large-object': 'True',
      [SYSMETA_SLO_ETAG]: etag,
      [SYSMETA_SLO_SIZE]: String(total),
      [OVERRIDE_ETAG]: `${[base || manifestEtag, ...params].join(';')}; slo_etag=${etag}`,
      // the listing shows the large object's size, kept on its type as swift_bytes
      'content-type': `${contentType};swift_bytes=${total}`,
    });
    const res = await next({
      ...req,
      query: new URLSearchParams(),
      headers,
      body: Readable.from([manifest]),
      env: { ...req.env, contentTypeOverridden: true },
    });
    return { stored: res, etag };
  };

  if (isTrue(req.query.get('heartbeat') ?? undefined)) {
    const report = verifyAndStore().then(
      async (outcome) => reportBody(format, await heartbeatFields(outcome), 'problems' in outcome ? outcome.problems : [], 'upload'),
      (err) => {
        config.logger?.error({ err }, 'SLO manifest PUT failed');
        return reportBody(format, { 'Response Status': statusLine(500), 'Response Body': '' }, [], 'upload');
      },
    );
    return { status: 202, headers: { 'content-type': format }, body: heartbeatBody(report, config.yieldFrequency, { immediate: true }) };
  }

  const outcome = await verifyAndStore();
  if ('problems' in outcome) return bodyResponse(400, reportBody(format, {}, outcome.problems, 'upload'), { contentType: format });
  if ('etagMismatch' in outcome) return errorPage(422);
  const res = outcome.stored;
  if (!isSuccess(res.status)) return res;
  return { ...res, headers: { ...res.headers, etag: `"${outcome.etag}"` } };
}

/** What a heartbeat report says of the outcome (swob's stock text stands in for an empty error body). */
async function heartbeatFields(outcome: Outcome): Promise<Record<string, string>> {
  if ('problems' in outcome) return { 'Response Status': statusLine(400), 'Response Body': reasonAndExplanation(400) };
  if ('etagMismatch' in outcome) return { 'Response Status': statusLine(422), 'Response Body': reasonAndExplanation(422) };
  const res = outcome.stored;
  const body = (await readBody(res.body, 64 * 1024).catch(() => Buffer.alloc(0))).toString('utf8');
  if (!isSuccess(res.status)) return { 'Response Status': statusLine(res.status), 'Response Body': body };
  return { 'Response Status': statusLine(res.status), Etag: `"${outcome.etag}"`, 'Last Modified': res.headers['last-modified'] ?? '', 'Response Body': body };
}
