// POST /v2/images/{id}/import (Image API 2.6+, stores 2.8+): checks the request as Glance
// does (body, image state, policy, target stores), then hands off to ../upload/import.ts,
// which records the intent (and the import's task, GET /v2/images/{id}/tasks) and runs the
// copy in the background. Answers 202 with no body.
//
// Methods offered: glance-direct and copy-image (see GET /v2/info/import). web-download is
// refused as unknown: it would make the API host fetch arbitrary URLs.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { HttpError, badRequest, conflict } from '../../core/http/index.ts';
import { IMPORT_METHODS, IMPORT_TASK, recordNothingToCopy, startImport, type ImportMethod, type ImportOrigin } from '../upload/import.ts';
import type { ImageStore } from '../store/types.ts';
import { STORE_HEADER, imageTarget, visibleImage } from './image-data.ts';
import { authorize, contextOf, type ImageDeps } from './common.ts';

type ImageParams = { image_id: string };

interface ImportBody {
  method: ImportMethod;
  stores?: string[];
  allStores: boolean;
  allStoresMustSucceed: boolean;
}

/** Glance's checks of the import body (its deserializer), before the image is even looked at. */
export function parseImportBody(body: unknown): ImportBody {
  if (body === undefined || body === null) throw badRequest('Body expected in request.');
  if (typeof body !== 'object' || Array.isArray(body)) throw badRequest('Malformed JSON in request body.');
  const b = body as Record<string, unknown>;
  if (!('method' in b)) throw badRequest("Import request requires a 'method' field.");
  const method = b.method;
  if (typeof method !== 'object' || method === null || Array.isArray(method)) throw badRequest("Import request requires a 'method' field.");
  if (!('name' in method)) throw badRequest("Import request requires a 'name' field.");
  const name = (method as Record<string, unknown>).name;
  if (typeof name !== 'string' || !(IMPORT_METHODS as readonly string[]).includes(name)) {
    throw badRequest(`Unknown import method name '${String(name)}'.`);
  }
  const allStoresMustSucceed = b.all_stores_must_succeed ?? true;
  if (typeof allStoresMustSucceed !== 'boolean') throw badRequest("'all_stores_must_succeed' must be boolean value only");
  const allStores = b.all_stores ?? false;
  if (typeof allStores !== 'boolean') throw badRequest("'all_stores' must be boolean value only");
  let stores: string[] | undefined;
  if ('stores' in b) {
    if (!Array.isArray(b.stores) || !b.stores.every((s) => typeof s === 'string')) throw badRequest("'stores' must be a list of store identifiers");
    stores = b.stores as string[];
  }
  return { method: name as ImportMethod, stores, allStores, allStoresMustSucceed };
}

/** The target stores (Glance's get_stores_from_request): all of them, the body's list, the header's one, or the default. */
function targetStores(req: FastifyRequest, deps: ImageDeps, body: ImportBody): ImageStore[] {
  const header = req.headers[STORE_HEADER];
  if (body.allStores) {
    if (body.stores !== undefined || header !== undefined) {
      throw badRequest("All_stores parameter can't be used with x-image-meta-store header or stores parameter");
    }
    return deps.stores.all();
  }
  let ids: string[];
  if (body.stores !== undefined) {
    if (header !== undefined) throw badRequest("Stores parameter and x-image-meta-store header can't be both specified");
    ids = body.stores;
  } else {
    ids = header !== undefined ? [String(header).trim()] : [deps.stores.default.id];
  }
  const unique = [...new Set(ids)];
  return unique.map((id) => {
    // Glance answers an unknown store in an import with 409 (the upload's header gets a 400).
    if (!deps.stores.has(id)) throw conflict(`Store for identifier ${id} not found`);
    return deps.stores.get(id);
  });
}

export function registerImageImport(app: FastifyInstance, deps: ImageDeps): void {
  app.post<{ Params: ImageParams }>('/v2/images/:image_id/import', async (req, reply) => {
    const body = parseImportBody(req.body);
    const ctx = contextOf(req);
    const image = await visibleImage(deps, ctx, req.params.image_id);
    const { status } = image.row;
    const copy = body.method === 'copy-image';

    if (status === 'active' && !copy) throw conflict('Image with status active cannot be target for import');
    if (status !== 'active' && copy) throw conflict('Only images with status active can be targeted for copying');
    if (status !== 'uploading' && body.method === 'glance-direct') {
      throw conflict("Image needs to be staged before 'glance-direct' method can be used");
    }
    if (!image.row.container_format) throw conflict("'container_format' needs to be set before import");
    if (!image.row.disk_format) throw conflict("'disk_format' needs to be set before import");

    authorize(req, deps, copy ? 'copy_image' : 'import_image', imageTarget(ctx, image));

    if (image.properties[IMPORT_TASK] !== undefined) {
      throw conflict(`New operation on image '${image.row.id}' is not permitted as prior operation is still in progress`);
    }

    const origin: ImportOrigin = { projectId: ctx.projectId, userId: ctx.userId, requestId: req.id, request: req.body };
    let stores = targetStores(req, deps, body);
    if (copy) {
      const present = new Set(image.locations.filter((l) => l.status === 'active').map((l) => l.store_id));
      if (body.allStores) {
        // Copying to "all stores" means the ones that do not have it yet; none left is a no-op
        // (with the progress properties shown empty and a task that succeeded).
        stores = stores.filter((s) => !present.has(s.id));
        if (stores.length === 0) {
          await recordNothingToCopy(deps, image, origin);
          return reply.status(202).send();
        }
      } else {
        const already = stores.find((s) => present.has(s.id));
        if (already) throw badRequest(`Image is already present at store '${already.id}'`);
      }
    }
    if (stores.length === 0) throw new HttpError(400, 'No store to import the image into.');

    await startImport(deps, image, { method: body.method, stores, allStoresMustSucceed: body.allStoresMustSucceed }, origin);
    return reply.status(202).send();
  });
}
