// Many operations in one request (Swift's bulk middleware):
//   POST (or DELETE) /v1/<account>?bulk-delete  with a body of newline-separated, %-encoded
//     /container/object or /container names: the objects are deleted first, then the
//     containers (which must be empty by then); at most max_deletes_per_request names.
//   PUT /v1/<account>[/<container>[/<prefix>]]?extract-archive=tar|tar.gz  with a tar archive
//     as the body: every regular file becomes an object under the path (its first directory
//     naming the container when the path has none), containers created as needed.
// Both answer 200 at once and then keep the connection alive with whitespace while they work;
// the outcome is in the body ("Response Status", counts, "Errors"), as text, JSON or XML per
// the Accept header. Every operation is made as the caller, with their token.
import { createGunzip } from 'node:zlib';
import { PassThrough } from 'node:stream';
import type { Logger } from 'pino';
import type { Capabilities } from '../capabilities.ts';
import { MAX_CONTAINER_NAME_LENGTH, MAX_FILE_SIZE, MAX_OBJECT_NAME_LENGTH } from '../constraints.ts';
import { parseSwiftPath } from '../path.ts';
import { discardBody, subrequest, type Handler, type Middleware, type SwiftRequest, type SwiftResponse } from '../pipeline.ts';
import { isSuccess } from '../proxy/responses.ts';
import { ByteReader, requestReader, trimSpace } from './byte-reader.ts';
import { DELETE_START, deleteAll, type DeleteTarget } from './delete-report.ts';
import { quote, strictUtf8, unquoteToBytes } from './quote.ts';
import { failureReport, RunError, streamedReport, type Report, type ReportFields } from './report.ts';
import { bodyResponse, statusLine } from './responses.ts';
import { readTar, TarError, type TarEntry } from './tar.ts';

export interface BulkOptions {
  /** default 10000 */
  maxContainersPerExtraction?: number;
  /** default 1000 */
  maxFailedExtractions?: number;
  /** default 10000 */
  maxDeletesPerRequest?: number;
  /** default 1000 */
  maxFailedDeletes?: number;
  /** seconds between the whitespace sent while working; default 10 */
  yieldFrequency?: number;
  /** deletes in flight at once; default 2 */
  deleteConcurrency?: number;
  capabilities?: Capabilities;
  logger?: Logger;
}

/** The longest /container/object a name can be (Swift's max_path_length). */
const MAX_PATH_LENGTH = MAX_OBJECT_NAME_LENGTH + MAX_CONTAINER_NAME_LENGTH + 2;

const ARCHIVE_TYPES: Record<string, 'tar' | 'gz' | 'bz2'> = { tar: 'tar', 'tar.gz': 'gz', 'tar.bz2': 'bz2' };

const EXTRACT_START: ReportFields = { 'Response Status': statusLine(201), 'Response Body': '', 'Number Files Created': 0 };

export function bulk(opts: BulkOptions = {}): Middleware {
  const config = {
    maxContainers: opts.maxContainersPerExtraction ?? 10000,
    maxFailedExtractions: opts.maxFailedExtractions ?? 1000,
    maxDeletes: opts.maxDeletesPerRequest ?? 10000,
    maxFailedDeletes: opts.maxFailedDeletes ?? 1000,
    yieldFrequency: opts.yieldFrequency ?? 10,
    deleteConcurrency: Math.min(1000, Math.max(1, opts.deleteConcurrency ?? 2)),
  };
  opts.capabilities?.register('bulk_upload', { max_containers_per_extraction: config.maxContainers, max_failed_extractions: config.maxFailedExtractions });
  opts.capabilities?.register('bulk_delete', { max_deletes_per_request: config.maxDeletes, max_failed_deletes: config.maxFailedDeletes });

  /** 200 now, the report when `run` is done; then the request body is let go. */
  const reply = (req: SwiftRequest, rootTag: string, start: ReportFields, run: () => Promise<Report>, release: () => void): SwiftResponse =>
    streamedReport(req.headers.accept, run, { start, rootTag, yieldFrequency: config.yieldFrequency, name: `bulk ${rootTag}`, logger: opts.logger, release });

  return (next: Handler): Handler => async (req) => {
    const extract = req.query.get('extract-archive');
    if (extract !== null && req.method === 'PUT') {
      const type = ARCHIVE_TYPES[extract.toLowerCase().replace(/^\.+|\.+$/g, '')];
      if (type === undefined) return bodyResponse(400, 'Unsupported archive format');
      if (type === 'bz2') return bodyResponse(400, 'Unsupported archive format: tar.bz2 needs a bzip2 decoder, which this installation does not have');
      const { reader, release } = requestReader(req.body, type === 'gz' ? createGunzip() : new PassThrough());
      return reply(req, 'extract', EXTRACT_START, () => extractArchive(req, next, reader, config), release);
    }
    if (req.query.has('bulk-delete') && (req.method === 'POST' || req.method === 'DELETE')) {
      const { reader, release } = requestReader(req.body);
      return reply(req, 'delete', DELETE_START, () => bulkDelete(req, next, reader, config), release);
    }
    return next(req);
  };
}

function lengthKnown(req: SwiftRequest): boolean {
  return req.headers['content-length'] !== undefined || (req.headers['transfer-encoding'] ?? '').toLowerCase().includes('chunked');
}

// ---- bulk delete ----

interface DeleteConfig {
  maxDeletes: number;
  maxFailedDeletes: number;
  deleteConcurrency: number;
}

async function bulkDelete(req: SwiftRequest, next: Handler, reader: ByteReader, config: DeleteConfig): Promise<Report> {
  if (!parseSwiftPath(req.path)) throw new RunError(404);
  const type = req.headers['content-type'];
  // only newline-separated names are understood
  if (type && !type.startsWith('text/plain')) throw new RunError(406);
  if (!lengthKnown(req)) throw new RunError(411);

  const objects: DeleteTarget[] = [];
  const containers: DeleteTarget[] = [];
  for await (const line of namesToDelete(reader, config.maxDeletes)) {
    const raw = unquoteToBytes(line);
    const name = strictUtf8(raw);
    const text = name ?? raw.toString('utf8');
    if (!text) continue;
    const target: DeleteTarget = name === undefined ? { name: text, error: { code: 412, message: statusLine(412) } } : { name: text };
    (text.replace(/^\/+|\/+$/g, '').includes('/') ? objects : containers).push(target);
  }

  // Containers only once every object delete has finished: they must be empty by then.
  const counted = countInFlight(next);
  async function* targets(): AsyncGenerator<DeleteTarget> {
    yield* objects;
    await counted.idle();
    yield* containers;
  }
  return deleteAll(req, counted.handler, targets(), { source: 'BD', concurrency: config.deleteConcurrency, maxFailures: config.maxFailedDeletes });
}

/** The request body's lines, whitespace trimmed; too many, or one too long, ends the run. */
async function* namesToDelete(reader: ByteReader, max: number): AsyncGenerator<Buffer> {
  let count = 0;
  let scanned = 0;
  while (true) {
    const newline = reader.buffered.indexOf(0x0a, scanned);
    let line: Buffer | undefined;
    if (newline >= 0) {
      line = reader.take(newline + 1);
      scanned = 0;
    } else {
      scanned = reader.buffered.length;
      if (scanned > MAX_PATH_LENGTH * 2) throw new RunError(400, 'Invalid File Name');
      if (!(await reader.more())) line = reader.take(reader.buffered.length);
    }
    if (line === undefined) continue;
    const trimmed = trimSpace(line);
    if (trimmed.length) {
      if (++count > max) throw new RunError(413, `Maximum Bulk Deletes: ${max} per request`);
      yield trimmed;
    }
    if (reader.exhausted) return;
  }
}

/** `next`, counting the requests in flight through it, with a wait for none to be. */
function countInFlight(next: Handler): { handler: Handler; idle(): Promise<void> } {
  let inFlight = 0;
  let waiters: (() => void)[] = [];
  return {
    handler: async (req) => {
      inFlight++;
      try {
        return await next(req);
      } finally {
        if (--inFlight === 0) {
          for (const wake of waiters) wake();
          waiters = [];
        }
      }
    },
    idle: () => (inFlight === 0 ? Promise.resolve() : new Promise<void>((resolve) => waiters.push(resolve))),
  };
}

// ---- archive extraction ----

interface ExtractConfig {
  maxContainers: number;
  maxFailedExtractions: number;
}

/** What an archive error says in the report: tar's own words, or the decompressor's. */
function archiveProblem(err: unknown): string | undefined {
  if (err instanceof TarError) return err.message;
  const code = (err as { code?: unknown }).code;
  if (typeof code !== 'string' || !code.startsWith('Z_')) return undefined;
  if (code === 'Z_BUF_ERROR') return 'unexpected end of data';
  const message = (err as Error).message;
  return message === 'incorrect header check' ? 'not a gzip file' : `zlib error: ${message}`;
}

async function extractArchive(req: SwiftRequest, next: Handler, reader: ByteReader, config: ExtractConfig): Promise<Report> {
  if (!lengthKnown(req)) throw new RunError(411);
  const path = parseSwiftPath(req.path);
  if (!path) throw new RunError(404);
  const base = [path.container, path.object].filter((p) => p !== undefined).join('/').replace(/\/+$/, '');
  const run = new Extraction(req, next, path.version, path.account, base, config);
  // what was done so far stays in the report, whatever stops the run
  const sofar = (): ReportFields => ({ ...EXTRACT_START, 'Number Files Created': run.created });
  try {
    for await (const entry of readTar(reader)) {
      if (run.failed.length >= config.maxFailedExtractions) break;
      if (entry.isFile) await run.extract(entry);
    }
  } catch (err) {
    if (err instanceof RunError) return failureReport(sofar(), err.status, err.message, run.failed);
    const problem = archiveProblem(err);
    if (problem !== undefined) return failureReport(sofar(), 400, `Invalid Tar File: ${problem}`, run.failed);
    // the client stopped sending: nobody is left to read the report
    if (err !== undefined && err === reader.error) return failureReport(sofar(), 499, '', run.failed);
    throw err;
  }
  if (run.failed.length) return failureReport(sofar(), run.failedStatus, '', run.failed);
  if (run.created === 0) return failureReport(EXTRACT_START, 400, 'Invalid Tar File: No Valid Files');
  return { fields: sofar(), errors: [] };
}

class Extraction {
  created = 0;
  readonly failed: [string, string][] = [];
  failedStatus = 400;
  readonly #accessed = new Set<string>();
  #containersCreated = 0;

  constructor(
    private readonly req: SwiftRequest,
    private readonly next: Handler,
    private readonly version: string,
    private readonly account: string,
    private readonly base: string,
    private readonly config: ExtractConfig,
  ) {}

  #fail(name: Buffer | string, status: number | string): void {
    const bytes = typeof name === 'string' ? Buffer.from(name, 'utf8') : name;
    this.failed.push([quote(bytes.subarray(0, MAX_PATH_LENGTH)), typeof status === 'number' ? statusLine(status) : status]);
  }

  async extract(entry: TarEntry): Promise<void> {
    let name = entry.name;
    if (name.subarray(0, 2).toString('latin1') === './') name = name.subarray(2);
    let start = 0;
    while (start < name.length && name[start] === 0x2f) start++;
    name = name.subarray(start);
    if (this.base) name = Buffer.concat([Buffer.from(`${this.base}/`, 'utf8'), name]);
    // files at the top, outside any container, are not extracted
    if (!name.includes(0x2f)) return;
    const objectPath = strictUtf8(name);
    if (objectPath === undefined) return this.#fail(name, 412);
    if (entry.size > MAX_FILE_SIZE) return this.#fail(name, 413);
    const container = objectPath.slice(0, objectPath.indexOf('/'));

    let containerFailure: [string, string] | undefined;
    if (!this.#accessed.has(container)) {
      const containerPath = `/${this.version}/${this.account}/${container}`;
      const status = await this.#ensureContainer(containerPath);
      if (status === 'created' && ++this.#containersCreated > this.config.maxContainers) {
        throw new RunError(400, `More than ${this.config.maxContainers} containers to create from tar.`);
      }
      if (typeof status === 'number') {
        // the object may still go in, if an ACL lets the caller write there
        containerFailure = [quote(containerPath.slice(0, MAX_PATH_LENGTH)), statusLine(status)];
        if (status === 401) throw new RunError(401);
      }
    }

    const headers: Record<string, string> = { 'content-length': String(entry.size) };
    for (const [header, value] of Object.entries(this.req.headers)) {
      if (header === 'x-delete-at' || header === 'x-delete-after' || header.startsWith('x-object-meta-')) headers[header] = value;
    }
    for (const [key, value] of Object.entries(entry.pax)) {
      const header = paxHeader(key);
      // header values travel as bytes, one character each
      if (header) headers[header] = Buffer.from(value, 'utf8').toString('latin1');
    }
    const res = await this.next(subrequest(this.req, {
      method: 'PUT', path: `/${this.version}/${this.account}/${objectPath}`, headers, body: entry.body(), source: 'EA',
    }));
    discardBody(res);
    this.#accessed.add(container);
    if (isSuccess(res.status)) {
      this.created++;
      return;
    }
    if (containerFailure) this.failed.push(containerFailure);
    if (res.status === 401) {
      this.#fail(name, 401);
      throw new RunError(401);
    }
    if (res.status >= 500) this.failedStatus = 502;
    this.#fail(name, res.status);
  }

  /** 'exists', 'created', or the status that stopped it being created. */
  async #ensureContainer(path: string): Promise<'exists' | 'created' | number> {
    const head = await this.next(subrequest(this.req, { method: 'HEAD', path, headers: {}, source: 'EA' }));
    discardBody(head);
    if (isSuccess(head.status)) return 'exists';
    if (head.status !== 404) return head.status;
    const put = await this.next(subrequest(this.req, { method: 'PUT', path, headers: {}, source: 'EA' }));
    discardBody(put);
    return isSuccess(put.status) ? 'created' : put.status;
  }
}

/** Extended attributes GNU tar and bsdtar store: user.mime_type → Content-Type, user.meta.* → X-Object-Meta-*. */
export function paxHeader(key: string): string | undefined {
  if (key === 'SCHILY.xattr.user.mime_type' || key === 'LIBARCHIVE.xattr.user.mime_type') return 'content-type';
  for (const prefix of ['SCHILY.xattr.user.meta.', 'LIBARCHIVE.xattr.user.meta.']) {
    if (key.startsWith(prefix)) return `x-object-meta-${key.slice(prefix.length).toLowerCase()}`;
  }
  return undefined;
}
