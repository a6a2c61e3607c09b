// Image data: PUT /v2/images/{id}/file (upload), GET /v2/images/{id}/file (download, with
// Range) and PUT /v2/images/{id}/stage (staging for the glance-direct import).
//
// Bodies are streams, never buffers: the two PUT routes live in their own Fastify scope whose
// only content-type parser hands the handler the request stream untouched, so no body limit
// applies there (the JSON routes keep theirs) and the store reads at its own pace. A body of
// any other type is a 415 without being read. A failed request whose body was not read to
// the end closes the connection rather than draining gigabytes nobody wants.
//
// The rules (status machine, quotas, clean-up) live in ../upload/upload.ts.
import { Readable } from 'node:stream';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { HttpError, badRequest, forbidden, notFound } from '../../core/http/index.ts';
import type { RequestContext } from '../../core/auth/index.ts';
import { canSee, loadImage, type FullImage } from '../db/images.ts';
import { StoreError, StoreInvalidRange, StoreNotFound } from '../store/errors.ts';
import type { ByteRange, ImageStore } from '../store/types.ts';
import { stageImageData, uploadImageData, type IncomingData } from '../upload/upload.ts';
import { authorize, contextOf, isAdmin, type ImageDeps } from './common.ts';

type ImageParams = { image_id: string };

const OCTET_STREAM = 'application/octet-stream';
/** Glance's header naming the store an upload goes to (multi-store, API 2.8). */
export const STORE_HEADER = 'x-image-meta-store';

/** The image, when the caller may see it; 404 otherwise (never 403: its existence is private). */
export async function visibleImage(deps: ImageDeps, ctx: RequestContext, imageId: string): Promise<FullImage> {
  const image = await loadImage(deps.data.db, imageId, ctx.projectId);
  if (!image || image.row.status === 'deleted' || !canSee(ctx, image)) throw notFound(`No image found with ID ${imageId}`);
  return image;
}

/** The policy target of an image, as Glance's ImageTarget: owner as project_id, the caller's membership as member_id. */
export function imageTarget(ctx: RequestContext, image: FullImage): Record<string, unknown> {
  return {
    ...image.properties,
    id: image.row.id,
    project_id: image.row.owner,
    member_id: image.membership !== undefined ? ctx.projectId : undefined,
    visibility: image.row.visibility,
  };
}

/** The store an upload or import names in X-Image-Meta-Store, else the default one. */
export function requestedStore(req: FastifyRequest, deps: ImageDeps): ImageStore {
  const given = req.headers[STORE_HEADER];
  if (given === undefined) return deps.stores.default;
  const id = String(given).trim();
  if (!deps.stores.has(id)) throw badRequest(`Store for identifier ${id} not found`);
  return deps.stores.get(id);
}

/** The request body stream; a 415 for any media type but application/octet-stream (Glance's deserializer). */
function octetStream(req: FastifyRequest): NodeJS.ReadableStream {
  const given = req.headers['content-type'];
  const type = (given ?? '').split(';')[0]!.trim().toLowerCase();
  if (type !== OCTET_STREAM) throw new HttpError(415, `Invalid content type ${given ?? 'None'}`);
  return req.body as NodeJS.ReadableStream;
}

/** The size the client announced: X-Openstack-Image-Size first (Glance 2.x clients), else Content-Length. */
function announcedSize(req: FastifyRequest): number | undefined {
  const header = req.headers['x-openstack-image-size'];
  if (header !== undefined) {
    const text = String(header).trim();
    if (!/^\d{1,16}$/.test(text) || !Number.isSafeInteger(Number(text))) throw badRequest('Invalid or missing image size in request headers.');
    return Number(text);
  }
  const length = req.headers['content-length'];
  if (length === undefined || req.headers['transfer-encoding'] !== undefined) return undefined;
  return Number(length);
}

/**
 * How long an upload may go without a byte arriving before we give up on the client (Glance's
 * client_socket_timeout): a stalled client must not hold an image in 'saving' for ever.
 */
const UPLOAD_IDLE_TIMEOUT_MS = 900_000;

/** A signal that fires when the client goes away (or stalls) before we answered. */
function clientGone(req: FastifyRequest, reply: FastifyReply): AbortSignal {
  const controller = new AbortController();
  const abort = () => {
    if (!controller.signal.aborted) controller.abort(new Error('client disconnected'));
  };
  req.raw.once('aborted', abort);
  reply.raw.once('close', () => {
    if (!reply.raw.writableFinished) abort();
  });
  // Node emits 'timeout' on the request only while its body is incomplete.
  req.raw.setTimeout(UPLOAD_IDLE_TIMEOUT_MS, () => {
    abort();
    req.raw.destroy();
  });
  return controller.signal;
}

function incoming(req: FastifyRequest, reply: FastifyReply): IncomingData {
  const stream = octetStream(req);
  return { stream, size: announcedSize(req), signal: clientGone(req, reply) };
}

const rangeNotSatisfiable = (message: string, size: number) => new HttpError(416, message, { 'content-range': `bytes */${size}` });

/**
 * The one byte range of a Range header (bytes=a-b, bytes=a-, bytes=-n), checked against the
 * image size as Glance does: several ranges are a 400, a malformed or unsatisfiable one a 416.
 */
export function parseRange(header: string | undefined, size: number): ByteRange | undefined {
  if (header === undefined) return undefined;
  if (header.includes(',')) {
    throw badRequest('Requests with multiple ranges are not supported in Glance. You may make multiple single-range requests instead.');
  }
  const m = /^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$/i.exec(header);
  if (!m || (m[1] === '' && m[2] === '')) throw rangeNotSatisfiable('Invalid Range header.', size);
  const invalidStart = () =>
    rangeNotSatisfiable(`Invalid start position in Range header. Start position MUST be in the inclusive range [0, ${size - 1}].`, size);
  if (m[1] === '') {
    // a suffix: the last n bytes
    const n = Number(m[2]);
    if (n === 0 || size === 0) throw invalidStart();
    return { start: Math.max(0, size - n), end: size - 1 };
  }
  const start = Number(m[1]);
  const end = m[2] === '' ? size - 1 : Number(m[2]);
  if (end < start) throw rangeNotSatisfiable('Invalid Range header.', size);
  if (start >= size) throw invalidStart();
  return { start, end: Math.min(end, size - 1) };
}

export function registerImageData(app: FastifyInstance, deps: ImageDeps): void {
  // Downloads have no body: registered on the app like any JSON route.
  app.get<{ Params: ImageParams }>('/v2/images/:image_id/file', async (req, reply) => {
    const ctx = contextOf(req);
    const image = await visibleImage(deps, ctx, req.params.image_id);
    if (image.row.status === 'deactivated' && !isAdmin(ctx)) {
      throw forbidden('The requested image has been deactivated. Image data download is forbidden.');
    }
    authorize(req, deps, 'download_image', imageTarget(ctx, image));

    const locations = image.locations.filter((l) => l.status === 'active');
    if (locations.length === 0) return reply.status(204).send();
    const size = Number(image.row.size ?? locations[0]!.size);
    const range = parseRange(req.headers.range, size);

    if (req.method === 'HEAD') {
      // The headers of the GET without reading the image (Fastify would read a stream to drop it).
      const length = range ? range.end - range.start + 1 : size;
      reply.status(range ? 206 : 200).header('content-type', OCTET_STREAM).header('content-length', String(length));
      if (range) reply.header('content-range', `bytes ${range.start}-${range.end}/${size}`);
      if (image.row.checksum) reply.header('content-md5', image.row.checksum);
      return reply.send(Readable.from([]));
    }

    // The first location that can be read wins, as Glance tries each in turn.
    let data: { stream: NodeJS.ReadableStream; size: number } | undefined;
    let failure: unknown;
    for (const loc of locations) {
      if (!deps.stores.has(loc.store_id)) continue;
      const store = deps.stores.get(loc.store_id);
      try {
        data = await store.get(loc.url, range);
        break;
      } catch (err) {
        if (err instanceof StoreInvalidRange) throw rangeNotSatisfiable('Invalid Range header.', size);
        failure = err;
        req.log.warn({ err, image_id: image.row.id, store_id: loc.store_id }, 'could not read image data from a location');
      }
    }
    if (!data) {
      // Glance: no readable data is a 204 (glance_store NotFound), a broken store a 503.
      if (failure === undefined || failure instanceof StoreNotFound) return reply.status(204).send();
      if (failure instanceof StoreError) throw new HttpError(503, 'The image data cannot be read from its store at the moment.');
      throw failure;
    }

    reply.status(range ? 206 : 200);
    reply.header('content-type', OCTET_STREAM);
    reply.header('content-length', String(data.size));
    if (range) reply.header('content-range', `bytes ${range.start}-${range.start + data.size - 1}/${size}`);
    if (image.row.checksum) reply.header('content-md5', image.row.checksum);
    return reply.send(data.stream);
  });

  // Uploads: a scope of their own, where the body is the raw request stream.
  app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', (_req, payload, done) => done(null, payload));
    scope.addHook('onSend', async (req, reply, payload) => {
      // A refused upload whose body is still coming: close rather than read it all to drain it.
      if (reply.statusCode >= 300 && !req.raw.complete) reply.header('connection', 'close');
      return payload;
    });

    scope.put<{ Params: ImageParams }>('/v2/images/:image_id/file', async (req, reply) => {
      const ctx = contextOf(req);
      const data = incoming(req, reply);
      const store = requestedStore(req, deps);
      const image = await visibleImage(deps, ctx, req.params.image_id);
      try {
        authorize(req, deps, 'upload_image', imageTarget(ctx, image));
      } catch (err) {
        if (err instanceof HttpError && err.status === 403) throw forbidden(`Not allowed to upload image data for image ${image.row.id}`);
        throw err;
      }
      await uploadImageData(deps, image, store, data);
      return reply.status(204).send();
    });

    scope.put<{ Params: ImageParams }>('/v2/images/:image_id/stage', async (req, reply) => {
      const ctx = contextOf(req);
      const data = incoming(req, reply);
      const image = await visibleImage(deps, ctx, req.params.image_id);
      authorize(req, deps, 'stage_image', imageTarget(ctx, image));
      await stageImageData(deps, image, data);
      return reply.status(204).send();
    });
  });
}
