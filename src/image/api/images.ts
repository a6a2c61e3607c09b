// Images: POST /v2/images (create a record; data comes later by upload or import), GET and
// DELETE /v2/images/{id}. Listing, PATCH, actions, tags and schemas have files of their own;
// registerImages puts them all on the app.
//
// As Glance (2.16):
//   - a new image is 'queued', visibility 'shared' unless told otherwise; 'public' needs
//     publicize_image (admins), 'community' communitize_image;
//   - the owner defaults to the caller's project; only an admin may name another;
//   - any key that is not an image attribute is a custom property, and must be a string;
//     attributes the service sets (status, checksum, size, ...) are 403 read-only;
//   - image_count_total (the caller's project) is a 413 when exceeded, as are more than 128
//     tags or custom properties;
//   - a protected image cannot be deleted (403); deleting removes the data from every store
//     and the staging area, whatever the status (an upload or import in flight included).
// Deleted images are removed from the database, not kept as status 'deleted' rows.
import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { badRequest, conflict, forbidden, notFound } from '../../core/http/index.ts';
import { dbBool, fromDbBool, isUniqueViolation, nowIso } from '../../core/db/index.ts';
import { loadImage } from '../db/images.ts';
import type { Visibility } from '../db/schema.ts';
import type { ImageSettings } from '../image-settings.ts';
import { imageCount, enforce as enforceQuota } from '../upload/quota.ts';
import { IMPORT_METHODS } from '../upload/import.ts';
import { discardImageData } from '../upload/upload.ts';
import { baseUrl, contextOf, type ImageDeps } from './common.ts';
import { imageView } from './image-view.ts';
import {
  CREATE_DISALLOWED, CREATE_READ_ONLY, addTags, checkMinimum, checkName, checkOwner, checkPropertyName, checkPropertyQuota,
  checkPropertyValue, checkTag, checkTagQuota, enforceOnImage, enforceRule, findImage, lockImage, readOnly, reserved, uniqueTags,
  validateImage, validateSchema,
} from './image-rules.ts';
import { registerImageList } from './image-list.ts';
import { registerImagePatch } from './image-patch.ts';
import { registerImageActions } from './image-actions.ts';
import { registerTags } from './tags.ts';
import { registerSchemas } from './schemas.ts';

type ImageParams = { image_id: string };

/** The keys of a create body that are image attributes (Glance's base properties); the rest are custom properties. */
const CREATE_ATTRIBUTES = new Set([
  'checksum', 'created_at', 'container_format', 'disk_format', 'id', 'min_disk', 'min_ram', 'name', 'size', 'virtual_size',
  'status', 'tags', 'owner', 'updated_at', 'visibility', 'protected', 'os_hidden', 'os_hash_algo', 'os_hash_value',
]);

export interface NewImage {
  id?: string;
  name: string | null;
  visibility: Visibility;
  protected: boolean;
  os_hidden: boolean;
  /** undefined: not given (the caller's project); null: no owner (admins only) */
  owner?: string | null;
  min_disk: number;
  min_ram: number;
  disk_format: string | null;
  container_format: string | null;
  tags: string[];
  properties: Record<string, string>;
}

/** Checks a create body in Glance's order (disallowed keys, schema, custom keys, read-only, limits) and reads it. */
export function parseCreateBody(body: unknown, settings: ImageSettings): NewImage {
  if (body === undefined) throw badRequest('Body expected in request.');
  if (typeof body === 'object' && body !== null && !Array.isArray(body)) {
    for (const key of CREATE_DISALLOWED) if (key in body) throw readOnly(key);
  }
  // Glance's image schema has no top-level type; its handler then fails on a non-object (a 500): a 400 here.
  validateSchema('image', { type: 'object' }, body);
  validateImage(settings, body);
  const b = body as Record<string, unknown>;
  const properties: Record<string, string> = {};
  for (const [key, value] of Object.entries(b)) {
    if (CREATE_ATTRIBUTES.has(key)) continue;
    checkPropertyName(key);
    if (key === 'locations') throw reserved(key);
    // kernel_id/ramdisk_id may be null by the schema: no such property then.
    if (value === null) continue;
    checkPropertyValue(key, value as string);
    properties[key] = value as string;
  }
  for (const key of CREATE_READ_ONLY) if (key in b) throw readOnly(key);
  for (const key of ['os_hash_algo', 'os_hash_value']) if (key in b) throw readOnly(key);

  const tags = uniqueTags((b.tags as string[] | undefined) ?? []);
  tags.forEach(checkTag);
  checkTagQuota(tags);
  checkPropertyQuota(properties);
  const image: NewImage = {
    id: b.id as string | undefined,
    name: (b.name as string | null | undefined) ?? null,
    visibility: (b.visibility as Visibility | undefined) ?? 'shared',
    protected: (b.protected as boolean | undefined) ?? false,
    os_hidden: (b.os_hidden as boolean | undefined) ?? false,
    owner: b.owner as string | null | undefined,
    min_disk: (b.min_disk as number | undefined) ?? 0,
    min_ram: (b.min_ram as number | undefined) ?? 0,
    disk_format: (b.disk_format as string | null | undefined) ?? null,
    container_format: (b.container_format as string | null | undefined) ?? null,
    tags,
    properties,
  };
  checkName(image.name);
  checkMinimum('min_disk', image.min_disk);
  checkMinimum('min_ram', image.min_ram);
  if (image.owner !== undefined) checkOwner(image.owner);
  return image;
}

export function registerImages(app: FastifyInstance, deps: ImageDeps): void {
  registerSchemas(app, deps);
  registerImageList(app, deps);
  registerImagePatch(app, deps);
  registerImageActions(app, deps);
  registerTags(app, deps);

  app.post('/v2/images', async (req, reply) => {
    const ctx = contextOf(req);
    const wanted = parseCreateBody(req.body, deps.settings);
    const owner = wanted.owner === undefined ? (ctx.projectId ?? null) : wanted.owner;
    const target = { project_id: owner, owner, visibility: wanted.visibility };
    try {
      enforceRule(ctx, deps, 'add_image', target);
    } catch (err) {
      if (owner !== ctx.projectId) throw forbidden(`You are not permitted to create images owned by '${owner}'`);
      throw err;
    }
    if (wanted.visibility === 'public') enforceRule(ctx, deps, 'publicize_image', target);
    if (wanted.visibility === 'community') enforceRule(ctx, deps, 'communitize_image', target);

    const id = wanted.id ?? randomUUID();
    try {
      await deps.data.write(async (tx) => {
        // The count quota is the caller's project's, as Glance enforces it (not the new owner's).
        if (ctx.projectId && deps.settings.quotas.imageCount >= 0) {
          enforceQuota(deps.settings, ctx.projectId, 'image_count_total', await imageCount(tx, ctx.projectId), 1);
        }
        if (wanted.id !== undefined) {
          const taken = await tx.selectFrom('image').select('id').where('id', '=', id).executeTakeFirst();
          if (taken) throw conflict(`Image ID ${id} already exists!`);
        }
        const now = nowIso();
        await tx
          .insertInto('image')
          .values({
            id,
            name: wanted.name,
            status: 'queued',
            visibility: wanted.visibility,
            protected: dbBool(wanted.protected),
            os_hidden: dbBool(wanted.os_hidden),
            owner,
            checksum: null,
            os_hash_algo: null,
            os_hash_value: null,
            size: null,
            virtual_size: null,
            min_disk: wanted.min_disk,
            min_ram: wanted.min_ram,
            disk_format: wanted.disk_format,
            container_format: wanted.container_format,
            created_at: now,
            updated_at: now,
          })
          .execute();
        const props = Object.entries(wanted.properties).map(([name, value]) => ({ image_id: id, name, value }));
        if (props.length) await tx.insertInto('image_property').values(props).execute();
        await addTags(tx, id, wanted.tags);
      });
    } catch (err) {
      // Two creates racing for one id; or two property names the database holds equal (MySQL's case-insensitive collation).
      if (isUniqueViolation(err)) {
        throw conflict(wanted.id !== undefined ? `Image ID ${id} already exists!` : 'Two custom properties of the image have names the database holds equal.');
      }
      throw err;
    }
    const image = await loadImage(deps.data.db, id, ctx.projectId);
    if (!image) throw notFound(`No image found with ID ${id}`);
    reply
      .code(201)
      .header('location', `${baseUrl(req, deps)}/v2/images/${id}`)
      .header('openstack-image-import-methods', IMPORT_METHODS.join(','))
      .header('openstack-image-store-ids', deps.stores.all().map((s) => s.id).join(','));
    return imageView(image);
  });

  app.get<{ Params: ImageParams }>('/v2/images/:image_id', async (req) => {
    const ctx = contextOf(req);
    const id = req.params.image_id;
    return imageView(await findImage(deps.data.db, ctx, deps, id, `No image found with ID ${id}`));
  });

  app.delete<{ Params: ImageParams }>('/v2/images/:image_id', async (req, reply) => {
    const ctx = contextOf(req);
    const id = req.params.image_id;
    const image = await deps.data.write(async (tx) => {
      const image = await lockImage(tx, ctx, deps, id, `Failed to find image ${id} to delete`);
      enforceOnImage(ctx, deps, 'delete_image', image);
      if (fromDbBool(image.row.protected)) throw forbidden(`Image ${id} is protected and cannot be deleted.`);
      const realId = image.row.id;
      for (const table of ['image_property', 'image_tag', 'image_member', 'image_location'] as const) {
        await tx.deleteFrom(table).where('image_id', '=', realId).execute();
      }
      await tx.deleteFrom('image').where('id', '=', realId).execute();
      return image;
    });
    // After the commit: the record is gone whatever happens to the bytes (failures are logged).
    await discardImageData(deps, image);
    reply.code(204).send();
  });
}
