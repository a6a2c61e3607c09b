// DELETE ?multipart-manifest=delete: the segments of a static large object (those of nested
// manifests too), then each manifest after its own segments, deleted as the caller. The answer
// is always 200 with a bulk-delete report saying what happened.
import { parseSwiftPath } from '../path.ts';
import { discardBody, readBody, subrequest, type Handler, type SwiftRequest, type SwiftResponse } from '../pipeline.ts';
import { isSuccess } from '../proxy/responses.ts';
import { isTrue } from '../storage/header-families.ts';
import { IGNORE_RANGE, withHint } from './backend-hints.ts';
import { DELETE_START, deleteAll, type DeleteTarget } from './delete-report.ts';
import { RunError, streamedReport } from './report.ts';
import { parseStoredManifest, type StoredSegment } from './slo-manifest.ts';
import type { SloConfig } from './slo.ts';

const SOURCE = 'SLO';

class ManifestReadError extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

/** The stored segments of the manifest at /container/object, read as the caller. */
async function readManifest(req: SwiftRequest, next: Handler, name: string, config: SloConfig): Promise<StoredSegment[]> {
  const { version, account } = parseSwiftPath(req.path)!;
  const path = `/${version}/${account}/${name.replace(/^\/+/, '')}`;
  const get = (range: boolean) =>
    next(
      subrequest(req, {
        method: 'GET',
        path,
        query: { 'multipart-manifest': 'get' },
        // only the last byte of a plain object: it is not going to be used
        headers: range ? withHint({ range: 'bytes=-1' }, IGNORE_RANGE, 'X-Static-Large-Object') : {},
        source: SOURCE,
      }),
    );
  let res: SwiftResponse = await get(true);
  if (res.status === 206 && isTrue(res.headers['x-static-large-object'])) {
    // a backend that ranged the manifest itself: ask again for all of it
    discardBody(res);
    res = await get(false);
  }
  if (isSuccess(res.status)) {
    if (!isTrue(res.headers['x-static-large-object'])) {
      discardBody(res);
      throw new ManifestReadError(400, 'Not an SLO manifest');
    }
    try {
      return parseStoredManifest(await readBody(res.body, config.maxManifestSize * 4));
    } catch {
      throw new ManifestReadError(500, 'Unable to load SLO manifest');
    }
  }
  discardBody(res);
  if (res.status === 404) throw new ManifestReadError(404, 'SLO manifest not found');
  if (res.status === 401) throw new ManifestReadError(401, '401 Unauthorized');
  throw new ManifestReadError(500, 'Unable to load SLO manifest or segment.');
}

/** Every segment to delete, breadth first, each manifest after the segments it lists. */
async function* targets(req: SwiftRequest, next: Handler, config: SloConfig): AsyncGenerator<DeleteTarget> {
  const { container, object } = parseSwiftPath(req.path)!;
  const queue: (DeleteTarget & { manifest?: boolean })[] = [{ name: `/${container}/${object}`, manifest: true }];
  while (queue.length) {
    // bounded, so a manifest tree built to be huge cannot exhaust memory here
    if (queue.length > config.maxManifestSegments * 10) throw new RunError(400, 'Too many buffered slo segments to delete.');
    const item = queue.shift()!;
    if (!item.manifest) {
      yield item;
      continue;
    }
    try {
      for (const seg of await readManifest(req, next, item.name, config)) {
        if (!('data' in seg)) queue.push({ name: seg.name, manifest: seg.sub_slo === true });
      }
      queue.push({ name: item.name });
    } catch (err) {
      if (!(err instanceof ManifestReadError)) throw err;
      queue.push({ name: item.name, error: { code: err.code, message: err.message } });
    }
  }
}

export function handleManifestDelete(req: SwiftRequest, next: Handler, config: SloConfig): SwiftResponse {
  const run = () => deleteAll(req, next, targets(req, next, config), { source: SOURCE, concurrency: config.concurrency });
  return streamedReport(req.headers.accept, run, { start: DELETE_START, rootTag: 'delete', yieldFrequency: config.yieldFrequency, name: 'SLO delete', logger: config.logger });
}
