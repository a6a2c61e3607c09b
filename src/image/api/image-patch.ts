// PATCH /v2/images/{id}: Glance's JSON-patch dialect.
//
// Media types: application/openstack-images-v2.1-json-patch ({"op": "replace", "path":
// "/name", "value": ...}, RFC 6902 style) and the older application/openstack-images-v2.0-
// json-patch ({"replace": "/name", "value": ...}); anything else is a 415 with Accept-Patch.
//
// What Glance accepts, and so do we:
//   - ops add, replace, remove; a path is one level deep ("/name", "/tags", "/my_key"; "~1"
//     and "~0" escape "/" and "~"); "/tags/0" and the like are a 400;
//   - add sets (an attribute, or a custom property whether or not it exists; in the v2.0
//     dialect adding an existing one is a 409); replace needs the property to exist (409);
//     remove of a core attribute is a 403, of a missing property a 409;
//   - read-only attributes (status, size, checksum, id, ...) and reserved names (os_glance_*,
//     location, deleted) are a 403; values are checked against the image schema (400);
//   - disk_format and container_format change only while the image is queued (or importing);
//   - only admins change the owner; visibility public/community need publicize_image /
//     communitize_image, and every change modify_image (403, or 404 for an image the caller
//     cannot get);
//   - locations are not shown by this cloud (show_multiple_locations is off), so changing
//     them is a 403, as Glance answers then.
// Changes are applied in order to a copy and saved together: one bad op leaves the image as it was.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { HttpError, badRequest, conflict, forbidden } from '../../core/http/index.ts';
import { dbBool, fromDbBool, isUniqueViolation, nowIso } from '../../core/db/index.ts';
import type { RequestContext } from '../../core/auth/index.ts';
import { loadImage, type FullImage } from '../db/images.ts';
import type { ImageTx } from '../db/database.ts';
import type { ImageTable, Visibility } from '../db/schema.ts';
import type { ImageSettings } from '../image-settings.ts';
import { contextOf, isAdmin, type ImageDeps } from './common.ts';
import { imageView } from './image-view.ts';
import {
  PATCHABLE_CORE, PATCH_READ_ONLY, RESERVED_NAMESPACE, RESERVED_NAMES, addTags, checkMinimum, checkName, checkOwner, checkPropertyName,
  checkPropertyQuota, checkPropertyValue, checkTag, checkTagQuota, enforceOnImage, enforceRule, imageTarget, lockImage, pyRepr, readOnly,
  reserved, uniqueTags, validateImage, type PatchableCore,
} from './image-rules.ts';

type ImageParams = { image_id: string };

/** The two patch media types and the JSON-schema draft each speaks (Glance's numbering). */
export const PATCH_MEDIA_TYPES: Readonly<Record<string, 4 | 10>> = {
  'application/openstack-images-v2.0-json-patch': 4,
  'application/openstack-images-v2.1-json-patch': 10,
};
const ACCEPT_PATCH = Object.keys(PATCH_MEDIA_TYPES).sort().join(', ');
const OPERATIONS = ['add', 'remove', 'replace'] as const;
type Operation = (typeof OPERATIONS)[number];

export interface Change {
  op: Operation;
  /** the decoded pointer, one element per level */
  path: string[];
  value?: unknown;
  draft: 4 | 10;
}

/** How deep a path may be, per root and op; one level unless listed (Glance's _path_depth_limits). */
const PATH_DEPTH: Record<string, Partial<Record<Operation, number>>> = { locations: { add: 2, remove: 2, replace: 1 } };

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function mediaType(header: string | undefined): string {
  return (header ?? '').split(';')[0]!.trim().toLowerCase();
}

/** A JSON pointer of the limited form Glance accepts, decoded into its tokens. */
export function decodePointer(pointer: unknown): string[] {
  if (typeof pointer !== 'string' || !pointer.startsWith('/')) throw badRequest(`Pointer \`${typeof pointer === 'string' ? pointer : pyRepr(pointer)}\` does not start with "/".`);
  if (/\/\s*?\//.test(pointer.slice(1))) throw badRequest(`Pointer \`${pointer}\` contains adjacent "/".`);
  if (pointer.length > 1 && pointer.endsWith('/')) throw badRequest(`Pointer \`${pointer}\` end with "/".`);
  if (pointer.slice(1).trim() === '/') throw badRequest(`Pointer \`${pointer}\` does not contains valid token.`);
  if (/~[^01]/.test(pointer) || pointer.endsWith('~')) throw badRequest(`Pointer \`${pointer}\` contains "~" not part of a recognized escape sequence.`);
  return pointer
    .replace(/^\/+/, '')
    .split('/')
    .map((part) => part.replaceAll('~1', '/').replaceAll('~0', '~').trim());
}

function operationOf(raw: Record<string, unknown>, draft: 4 | 10): { op: Operation; pointer: unknown } {
  if (draft === 10) {
    if (raw.op === undefined || raw.op === null) {
      throw badRequest(`Unable to find \`op\` in JSON Schema change. It must be one of the following: ${OPERATIONS.join(', ')}.`);
    }
    if (typeof raw.op !== 'string' || !(OPERATIONS as readonly string[]).includes(raw.op)) {
      throw badRequest(`Invalid operation: \`${typeof raw.op === 'string' ? raw.op : pyRepr(raw.op)}\`. It must be one of the following: ${OPERATIONS.join(', ')}.`);
    }
    if (!('path' in raw)) throw badRequest("Unable to find 'path' in JSON Schema change");
    return { op: raw.op as Operation, pointer: raw.path };
  }
  const present = OPERATIONS.filter((op) => op in raw);
  if (present.length > 1) throw badRequest('Operation objects must contain only one member named "add", "remove", or "replace".');
  if (present.length === 0) throw badRequest('Operation objects must contain exactly one member named "add", "remove", or "replace".');
  return { op: present[0]!, pointer: raw[present[0]!] };
}

/** Checks one change before anything is read (Glance's deserializer): names, then the value against the schema. */
function checkChange(change: Change, settings: ImageSettings): void {
  const root = change.path[0]!;
  if (PATCH_READ_ONLY.includes(root)) throw readOnly(root);
  if (RESERVED_NAMES.includes(root) || root.startsWith(RESERVED_NAMESPACE)) throw reserved(root);
  if (change.op === 'remove') return;
  if (change.path.length === 1) validateImage(settings, { [root]: change.value });
  else if (root === 'locations') validateImage(settings, { [root]: [change.value] });
}

/** The request body as a list of checked changes; 415 for a wrong media type, 400/403 for a bad document. */
export function parsePatch(contentType: string | undefined, body: string | undefined, settings: ImageSettings): Change[] {
  const draft = PATCH_MEDIA_TYPES[mediaType(contentType)];
  if (draft === undefined) {
    throw new HttpError(415, `The request media type ${contentType ?? 'None'} is not supported by this server. Image PATCH expects Content-Type one of: ${ACCEPT_PATCH}`, {
      'accept-patch': ACCEPT_PATCH,
    });
  }
  if (body === undefined || body.trim() === '') throw badRequest('Body expected in request.');
  let doc: unknown;
  try {
    doc = JSON.parse(body);
  } catch {
    throw badRequest('Malformed JSON in request body.');
  }
  if (!Array.isArray(doc)) throw badRequest('Request body must be a JSON array of operation objects.');
  const changes: Change[] = [];
  for (const raw of doc) {
    if (!isObject(raw)) throw badRequest('Operations must be JSON objects.');
    const { op, pointer } = operationOf(raw, draft);
    const path = decodePointer(pointer);
    const limit = PATH_DEPTH[path[0]!]?.[op] ?? 1;
    if (path.length !== limit) throw badRequest(`Invalid JSON pointer for this resource: '/${path.join('/')}'`);
    const change: Change = { op, path, draft };
    if (op !== 'remove') {
      if (!('value' in raw)) throw badRequest(`Operation "${op}" requires a member named "value".`);
      change.value = raw.value;
    }
    checkChange(change, settings);
    changes.push(change);
  }
  return changes;
}

/** The image as a PATCH changes it: its settable attributes, tags and custom properties. */
interface Draft {
  core: Pick<ImageTable, 'name' | 'visibility' | 'owner' | 'min_disk' | 'min_ram' | 'disk_format' | 'container_format'> & { protected: boolean; os_hidden: boolean };
  tags: string[];
  properties: Record<string, string>;
}

function draftOf(image: FullImage): Draft {
  const r = image.row;
  return {
    core: {
      name: r.name,
      visibility: r.visibility,
      owner: r.owner,
      min_disk: r.min_disk,
      min_ram: r.min_ram,
      disk_format: r.disk_format,
      container_format: r.container_format,
      protected: fromDbBool(r.protected),
      os_hidden: fromDbBool(r.os_hidden),
    },
    tags: [...image.tags],
    properties: { ...image.properties },
  };
}

const isCore = (key: string): key is PatchableCore => (PATCHABLE_CORE as readonly string[]).includes(key);

/** Sets a core attribute, with the rules Glance's domain object applies on assignment. */
function setCore(draft: Draft, image: FullImage, key: PatchableCore, value: unknown): void {
  switch (key) {
    case 'tags': {
      const tags = uniqueTags(value as string[]);
      tags.forEach(checkTag);
      checkTagQuota(tags);
      draft.tags = tags;
      return;
    }
    case 'disk_format':
    case 'container_format':
      if (!['queued', 'importing'].includes(image.row.status)) throw forbidden(`Attribute ${key} can be only replaced for a queued image.`);
      draft.core[key] = value as string | null;
      return;
    case 'min_disk':
    case 'min_ram':
      checkMinimum(key, value as number);
      draft.core[key] = value as number;
      return;
    case 'name':
      checkName(value as string | null);
      draft.core.name = value as string | null;
      return;
    case 'owner':
      checkOwner(value as string | null);
      draft.core.owner = value as string | null;
      return;
    case 'visibility':
      draft.core.visibility = value as Visibility;
      return;
    case 'protected':
    case 'os_hidden':
      draft.core[key] = value as boolean;
      return;
  }
}

function setProperty(draft: Draft, key: string, value: unknown): void {
  checkPropertyName(key);
  // kernel_id/ramdisk_id may be null by the schema: that unsets them.
  if (value === null) {
    delete draft.properties[key];
    return;
  }
  checkPropertyValue(key, value as string);
  draft.properties[key] = value as string;
}

/** Applies one change to the draft, authorizing it as Glance's update_property does. */
function apply(ctx: RequestContext, deps: ImageDeps, image: FullImage, draft: Draft, change: Change): void {
  const root = change.path[0]!;
  const { op, value } = change;
  if (root === 'locations') {
    if (op === 'replace' && (!Array.isArray(value) || value.length === 0)) throw forbidden('Cannot set locations to empty list.');
    const verb = op === 'replace' ? 'update' : op;
    throw forbidden(`It's not allowed to ${verb} locations if locations are invisible.`);
  }
  if (root === 'owner' && op !== 'remove' && !isAdmin(ctx)) throw forbidden("Owner can't be updated by non admin.");
  // visibility has its own rules, checked before modify_image
  if (root === 'visibility' && op !== 'remove') {
    const target = imageTarget(ctx, image);
    if (value === 'public') enforceRule(ctx, deps, 'publicize_image', target);
    if (value === 'community') enforceRule(ctx, deps, 'communitize_image', target);
  }
  enforceOnImage(ctx, deps, 'modify_image', image);

  const known = isCore(root) || root in draft.properties;
  switch (op) {
    case 'replace':
      if (isCore(root)) setCore(draft, image, root, value);
      else if (root in draft.properties) setProperty(draft, root, value);
      else throw conflict(`Property ${root} does not exist.`);
      return;
    case 'add':
      if (known && change.draft === 4) throw conflict(`Property ${root} already present.`);
      if (isCore(root)) setCore(draft, image, root, value);
      else setProperty(draft, root, value);
      return;
    case 'remove':
      if (isCore(root)) throw forbidden(`Property ${root} may not be removed.`);
      if (!(root in draft.properties)) throw conflict(`Property ${root} does not exist.`);
      delete draft.properties[root];
      return;
  }
}

/** Writes what differs between the image and the draft. */
async function save(tx: ImageTx, image: FullImage, draft: Draft): Promise<void> {
  const id = image.row.id;
  const c = draft.core;
  await tx
    .updateTable('image')
    .set({
      name: c.name,
      visibility: c.visibility,
      owner: c.owner,
      min_disk: c.min_disk,
      min_ram: c.min_ram,
      disk_format: c.disk_format,
      container_format: c.container_format,
      protected: dbBool(c.protected),
      os_hidden: dbBool(c.os_hidden),
      updated_at: nowIso(),
    })
    .where('id', '=', id)
    .execute();
  const before = image.properties;
  for (const key of Object.keys(before)) {
    if (!(key in draft.properties)) await tx.deleteFrom('image_property').where('image_id', '=', id).where('name', '=', key).execute();
  }
  for (const [key, value] of Object.entries(draft.properties)) {
    if (!(key in before)) await tx.insertInto('image_property').values({ image_id: id, name: key, value }).execute();
    else if (before[key] !== value) await tx.updateTable('image_property').set({ value }).where('image_id', '=', id).where('name', '=', key).execute();
  }
  const sameTags = draft.tags.length === image.tags.length && draft.tags.every((t) => image.tags.includes(t));
  if (!sameTags) {
    await tx.deleteFrom('image_tag').where('image_id', '=', id).execute();
    await addTags(tx, id, draft.tags);
  }
}

export async function patchImage(req: FastifyRequest<{ Params: ImageParams }>, deps: ImageDeps): Promise<FullImage> {
  const ctx = contextOf(req);
  const id = req.params.image_id;
  const changes = parsePatch(req.headers['content-type'], req.body as string | undefined, deps.settings);
  const missing = `No image found with ID ${id}`;
  let realId = id;
  try {
    await deps.data.write(async (tx) => {
      const image = await lockImage(tx, ctx, deps, id, missing);
      realId = image.row.id;
      if (changes.length === 0) return;
      const draft = draftOf(image);
      for (const change of changes) apply(ctx, deps, image, draft, change);
      if (Object.keys(draft.properties).some((k) => !(k in image.properties))) checkPropertyQuota(draft.properties);
      await save(tx, image, draft);
    });
  } catch (err) {
    // MySQL's collation holds 'Foo' and 'foo' equal: adding one while the other exists.
    if (isUniqueViolation(err)) throw conflict('A custom property of that name (as the database compares names) already exists.');
    throw err;
  }
  const image = await loadImage(deps.data.db, realId, ctx.projectId);
  if (!image) throw new HttpError(404, missing);
  return image;
}

export function registerImagePatch(app: FastifyInstance, deps: ImageDeps): void {
  // Its own scope: the body is read as text whatever its media type, so the media type is
  // judged by the handler (a 415 with Accept-Patch, as Glance) rather than by the parser.
  app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', { parseAs: 'string' }, (_req, body, done) => done(null, body));
    scope.patch<{ Params: ImageParams }>('/v2/images/:image_id', async (req) => imageView(await patchImage(req, deps)));
  });
}
