// Legacy object versioning (Swift's versioned_writes, "stack" and "history" modes). A
// container with X-Versions-Location (stack) or X-History-Location (history) names an archive
// container; overwriting an object first copies the current one there as
// <3 hex digits: length of the name><name>/<its timestamp>. A DELETE in stack mode puts the
// newest archived copy back in its place; in history mode it archives the object and leaves a
// zero-byte delete marker. The setting is kept in container sysmeta (versions-location,
// versions-mode) and shown to clients under the header they used.
//
// The archive writes are made on the middleware's own authority: the caller needs write access
// to the versioned container (checked here before anything is copied), not to the archive,
// which the account owner chose. A missing archive container makes the write a 412.
import { Readable } from 'node:stream';
import type { Logger } from 'pino';
import type { Capabilities } from '../capabilities.ts';
import { MAX_FILE_SIZE } from '../constraints.ts';
import { parseSwiftPath, type SwiftPath } from '../path.ts';
import { discardBody, readBody, subrequest, type Handler, type Middleware, type SwiftRequest, type SwiftResponse } from '../pipeline.ts';
import { getContainerInfo } from '../proxy/info.ts';
import { isSuccess, ResponseError } from '../proxy/responses.ts';
import { Timestamp } from '../storage/timestamp.ts';
import { unquote } from './quote.ts';
import { bodyResponse, errorPage, plainResponse } from './responses.ts';

const SOURCE = 'VW';
const VERSIONS_LOCATION = 'x-versions-location';
const HISTORY_LOCATION = 'x-history-location';
const SYSMETA_LOCATION = 'x-container-sysmeta-versions-location';
const SYSMETA_MODE = 'x-container-sysmeta-versions-mode';
const REMOVE_HEADERS = ['x-remove-versions-location', 'x-remove-history-location'];
export const DELETE_MARKER_CONTENT_TYPE = 'application/x-deleted;swift_versions_deleted=1';
/** the listing page size the container servers use */
const LISTING_LIMIT = 10000;

export interface VersionedWritesOptions {
  /** allow_versioned_writes: containers may be given a versions or history location */
  enabled?: boolean;
  logger?: Logger;
  capabilities?: Capabilities;
}

export function versionedWrites(opts: VersionedWritesOptions = {}): Middleware {
  const enabled = opts.enabled ?? true;
  if (enabled) opts.capabilities?.register('versioned_writes', { allowed_flags: [VERSIONS_LOCATION, HISTORY_LOCATION] });
  return (next) => async (req) => {
    const path = parseSwiftPath(req.path);
    if (!path?.container) return next(req);
    try {
      if (!path.object) return await containerRequest(req, next, enabled);
      if (req.method === 'PUT' || req.method === 'DELETE') return await objectRequest(req, next, path, enabled);
      return await next(req);
    } catch (err) {
      if (err instanceof ResponseError) return err.response;
      throw err;
    }
  };
}

/** Translates the client's location headers into sysmeta on the way in, and back on the way out. */
async function containerRequest(req: SwiftRequest, next: Handler, enabled: boolean): Promise<SwiftResponse> {
  const headers = { ...req.headers };
  if (headers[VERSIONS_LOCATION] !== undefined && headers[HISTORY_LOCATION] !== undefined) {
    if (!headers[HISTORY_LOCATION]) delete headers[HISTORY_LOCATION];
    else if (headers[VERSIONS_LOCATION]) {
      return plainResponse(400, `Only one of ${VERSIONS_LOCATION} or ${HISTORY_LOCATION} may be specified`);
    } else delete headers[VERSIONS_LOCATION];
  }
  const given = headers[VERSIONS_LOCATION] ?? headers[HISTORY_LOCATION];
  if (given !== undefined) {
    const mode = headers[VERSIONS_LOCATION] !== undefined ? 'stack' : 'history';
    if (!given) headers['x-remove-versions-location'] = 'x';
    else if (!enabled && (req.method === 'PUT' || req.method === 'POST')) {
      return plainResponse(412, 'Versioned Writes is disabled');
    } else {
      if (given.includes('/')) return bodyResponse(412, 'Container name cannot contain slashes');
      headers[SYSMETA_LOCATION] = given;
      headers[SYSMETA_MODE] = mode;
      // setting wins over removing in the same request
      for (const name of REMOVE_HEADERS) delete headers[name];
    }
    // only sysmeta says where versions go; the client's headers are not stored as they came
    headers[VERSIONS_LOCATION] = '';
    headers[HISTORY_LOCATION] = '';
  }
  if (REMOVE_HEADERS.some((name) => headers[name])) {
    Object.assign(headers, { [VERSIONS_LOCATION]: '', [HISTORY_LOCATION]: '', [SYSMETA_LOCATION]: '', [SYSMETA_MODE]: '' });
  }
  for (const name of REMOVE_HEADERS) delete headers[name];

  const res = await next({ ...req, headers });
  const location = res.headers[SYSMETA_LOCATION];
  if (!location) return res;
  const shown = res.headers[SYSMETA_MODE] === 'history' ? HISTORY_LOCATION : VERSIONS_LOCATION;
  return { ...res, headers: { ...res.headers, [shown]: location } };
}

async function objectRequest(req: SwiftRequest, next: Handler, path: SwiftPath, enabled: boolean): Promise<SwiftResponse> {
  const info = await getContainerInfo(req, next, path.account, path.container!);
  // a location stored the old way (the plain header) still versions, in stack mode
  const location = info.sysmeta['versions-location'] || info.versionsLocation;
  const mode = info.sysmeta['versions-mode'] || 'stack';
  if (!enabled || !location) return next(req);
  const archive = unquote(location).split('/')[0]!;
  const versioning = new Versioning(req, next, path, archive, info.writeAcl);
  if (req.method === 'PUT') {
    await versioning.archiveCurrent();
    return next(req);
  }
  if (mode === 'history') {
    await versioning.archiveCurrent();
    await versioning.writeDeleteMarker();
    return next(req);
  }
  return next(await versioning.restorePrevious());
}

/** 412 when the archive refuses (missing container, bad request), 503 when storage fails. */
function check(res: SwiftResponse): void {
  if (isSuccess(res.status)) return;
  discardBody(res);
  throw new ResponseError(errorPage(res.status < 500 ? 412 : 503));
}

/** Headers of a stored object that describe it (not the response carrying it) and go with a copy. */
function copiedHeaders(source: SwiftResponse): Record<string, string> {
  const skip = /^(x-timestamp|x-put-timestamp|x-backend-.*|last-modified|date|accept-ranges|content-range|transfer-encoding|connection|x-trans-id|x-openstack-request-id)$/;
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(source.headers)) if (!skip.test(name)) headers[name] = value;
  // a manifest keeps its large object's size on its type, for the archive's listing
  const sloSize = headers['x-object-sysmeta-slo-size'];
  if (sloSize && headers['content-type']) headers['content-type'] += `;swift_bytes=${sloSize}`;
  return headers;
}

class Versioning {
  readonly #prefix: string;

  constructor(
    readonly req: SwiftRequest,
    readonly next: Handler,
    readonly path: SwiftPath,
    readonly archive: string,
    readonly writeAcl: string | undefined,
  ) {
    // the name's length in UTF-8 bytes, as three hex digits, keeps one name's versions together
    this.#prefix = `${Buffer.byteLength(path.object!).toString(16).padStart(3, '0')}${path.object}/`;
  }

  #archivePath(name: string): string {
    return `/${this.path.version}/${this.path.account}/${this.archive}/${name}`;
  }

  /** The caller must be allowed to write the versioned container before anything is copied. */
  authorize(): void {
    const refused = this.req.env.authorize?.(this.req, this.writeAcl);
    if (refused) throw new ResponseError(refused);
  }

  /** GET of an object as stored (a symlink as itself), on the middleware's authority. */
  async #source(objectPath: string): Promise<SwiftResponse> {
    const res = await this.next(
      subrequest(this.req, { method: 'GET', path: objectPath, query: { symlink: 'get' }, headers: { 'x-newest': 'true' }, preauthorized: true, source: SOURCE }),
    );
    const length = res.headers['content-length'];
    if (length === undefined || Number(length) > MAX_FILE_SIZE) {
      discardBody(res);
      throw new ResponseError(errorPage(413));
    }
    return res;
  }

  /** Copies a source response's object to `objectPath`, its body streamed across. */
  async #put(objectPath: string, source: SwiftResponse): Promise<void> {
    const body = source.body;
    const put = subrequest(this.req, {
      method: 'PUT',
      path: objectPath,
      headers: copiedHeaders(source),
      body: body === undefined || typeof body === 'string' || Buffer.isBuffer(body) ? Readable.from([Buffer.from(body ?? '')]) : body,
      preauthorized: true,
      source: SOURCE,
    });
    // the type carries swift_bytes on purpose (an archived manifest)
    put.env.contentTypeOverridden = true;
    const res = await this.next(put);
    check(res);
    discardBody(res);
  }

  /** Copies the current object (if there is one) into the archive under its own timestamp. */
  async archiveCurrent(): Promise<void> {
    this.authorize();
    const current = await this.#source(this.req.path);
    if (current.status === 404) {
      discardBody(current);
      return;
    }
    check(current);
    const stamp = current.headers['x-timestamp'] ?? String(Math.floor(Date.parse(current.headers['last-modified'] ?? '') / 1000));
    const version = Timestamp.tryParse(stamp) ?? Timestamp.now();
    await this.#put(this.#archivePath(this.#prefix + version.internal), current);
  }

  /** History mode: a zero-byte marker in the archive saying when the object was deleted. */
  async writeDeleteMarker(): Promise<void> {
    const marker = subrequest(this.req, {
      method: 'PUT',
      path: this.#archivePath(this.#prefix + Timestamp.now().internal),
      headers: { 'content-type': DELETE_MARKER_CONTENT_TYPE, 'content-length': '0' },
      preauthorized: true,
      source: SOURCE,
    });
    // a swift_* type parameter nobody else may set marks it as what it is
    marker.env.contentTypeOverridden = true;
    const res = await this.next(marker);
    check(res);
    discardBody(res);
  }

  /** The archived versions of the object, newest first, page by page. */
  async *#versions(): AsyncGenerator<{ name: string; content_type: string }> {
    let marker = '';
    for (;;) {
      const query: Record<string, string> = { format: 'json', prefix: this.#prefix, marker, reverse: 'on' };
      const res = await this.next(
        subrequest(this.req, { method: 'GET', path: `/${this.path.version}/${this.path.account}/${this.archive}`, query, headers: {}, preauthorized: true, source: SOURCE }),
      );
      if (res.status === 404) {
        discardBody(res);
        return;
      }
      if (!isSuccess(res.status)) {
        discardBody(res);
        throw new ResponseError(errorPage(res.status < 500 ? 412 : 500));
      }
      const text = (await readBody(res.body, 64 * 1024 * 1024)).toString('utf8');
      const page = text ? (JSON.parse(text) as { name: string; content_type: string }[]) : [];
      if (!page.length) return;
      yield* page;
      if (page.length < LISTING_LIMIT) return;
      marker = page[page.length - 1]!.name;
    }
  }

  /** Restores an archived version over the object; false when it vanished meanwhile. */
  async #restore(name: string): Promise<string | false> {
    const archived = this.#archivePath(name);
    const source = await this.#source(archived);
    if (source.status === 404) {
      discardBody(source);
      return false;
    }
    check(source);
    await this.#put(this.req.path, source);
    return archived;
  }

  /** A DELETE of an archived copy (its conditions, like X-If-Delete-At, were about the current object). */
  #deleteOf(objectPath: string): SwiftRequest {
    return subrequest(this.req, { method: 'DELETE', path: objectPath, headers: {}, preauthorized: true, source: SOURCE });
  }

  /**
   * Stack mode DELETE: puts the newest archived version back and returns the DELETE that
   * removes it from the archive (or the original request when there is nothing to restore).
   */
  async restorePrevious(): Promise<SwiftRequest> {
    const versions = this.#versions();
    let authorized = false;
    for await (const previous of versions) {
      if (!authorized) {
        this.authorize();
        authorized = true;
      }
      if (!isDeleteMarker(previous.content_type)) {
        const restored = await this.#restore(previous.name);
        if (!restored) continue;
        return this.#deleteOf(restored);
      }
      // The newest entry is a delete marker: if the object exists again, just delete it.
      const head = await this.next(subrequest(this.req, { method: 'HEAD', path: this.req.path, headers: { 'x-newest': 'true' }, preauthorized: true, source: SOURCE }));
      discardBody(head);
      if (head.status !== 404) {
        check(head);
        break;
      }
      for await (const older of versions) {
        if (isDeleteMarker(older.content_type)) break;
        const restored = await this.#restore(older.name);
        if (!restored) continue;
        const removed = await this.next(this.#deleteOf(restored));
        discardBody(removed);
        if (removed.status !== 404) check(removed);
        break;
      }
      return this.#deleteOf(this.#archivePath(previous.name));
    }
    return this.req;
  }
}

function isDeleteMarker(contentType: string | undefined): boolean {
  return (contentType ?? '').replace(/\s/g, '') === DELETE_MARKER_CONTENT_TYPE;
}
