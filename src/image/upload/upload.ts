// Putting image data in place: the direct upload (PUT /file: queued → saving → active) and the
// staging of the interoperable import (PUT /stage: queued → uploading). The rules, as Glance:
//   - only a 'queued' image takes data, and only with disk_format and container_format set;
//   - the status change is persisted (atomically: of two racing uploads one gets a 409)
//     BEFORE a byte is read, so the image shows 'saving' / 'uploading' while data flows;
//   - image_size_cap, image_size_total (upload) and image_stage_total (stage) are enforced
//     before reading when the size is announced, and while reading otherwise (the store
//     stops at maxSize); image_count_uploading once the image counts as uploading;
//   - on ANY failure (client gone, size mismatch, quota, store error, format mismatch) the
//     store has left nothing behind and the image goes back to 'queued' with no size or
//     checksum, so the upload can simply be retried;
//   - if the image was deleted while its data was being written, the data is removed again
//     (Glance answers 410 Gone to the upload).
// Data checks follow Glance's format inspection for container_format 'bare': data whose
// disk header contradicts disk_format is refused (415), and virtual_size is what the header
// says (the size itself for raw).
import type { Logger } from 'pino';
import { HttpError, conflict, notFound } from '../../core/http/index.ts';
import { nowIso } from '../../core/db/index.ts';
import type { ImageDeps } from '../api/common.ts';
import type { FullImage } from '../db/images.ts';
import type { ImageStatus, ImageTable } from '../db/schema.ts';
import {
  StoreDuplicate,
  StoreFull,
  StoreQuotaExceeded,
  StoreSizeMismatch,
  StoreUnavailable,
} from '../store/errors.ts';
import type { ImageStore, StoredImage } from '../store/types.ts';
import { enforce, headroom, limitOf, stagingUsage, storageUsage, uploadingCount } from './quota.ts';
import { NO_DATA, missingFormats, moveStatus, transitionRefused } from './status.ts';

/** The data of one request: its body stream, the announced size, and a signal for a client gone. */
export interface IncomingData {
  stream: NodeJS.ReadableStream | AsyncIterable<Uint8Array>;
  /** From X-Openstack-Image-Size or Content-Length; absent for a chunked body of unknown size. */
  size?: number;
  signal?: AbortSignal;
}

/** The location status of data waiting in the staging area (image_location.status). */
export const STAGED = 'staged';

/** Disk formats whose header our inspector recognises; 'raw' is what it says when none matches. */
const INSPECTABLE = new Set(['raw', 'qcow2', 'vmdk', 'vhd', 'vhdx', 'iso']);

/**
 * The virtual size to record for data the store just wrote, or a 415 when the data is not in
 * the image's disk_format (Glance's require_image_format_match, on by default). Only
 * container_format 'bare' is inspected, as Glance does: a disk inside an ova or docker
 * container says nothing about itself.
 */
export function virtualSizeOf(row: Pick<ImageTable, 'disk_format' | 'container_format'>, stored: StoredImage): number | null {
  if (row.container_format !== 'bare' || !row.disk_format) return null;
  const claimed = row.disk_format;
  const detected = stored.detectedFormat ?? 'raw';
  if (detected === claimed) return claimed === 'raw' ? stored.size : stored.virtualSize;
  // A qcow2 (or other rich format) called raw is used as raw bytes by everyone: allowed.
  if (claimed === 'raw') return stored.size;
  // Formats we cannot recognise (ami, ari, aki, vdi, ploop...) pass when nothing else matched.
  if (detected === 'raw' && !INSPECTABLE.has(claimed)) return null;
  throw new HttpError(415, `Image disk_format ${claimed} does not match stream data ${detected}`);
}

/** Glance's answers to store failures; anything that is not a store failure passes through. */
export function storeFailure(err: unknown, limits: { cap: number; quota?: number } = { cap: Infinity }): unknown {
  if (err instanceof StoreQuotaExceeded) {
    if (limits.quota !== undefined && limits.quota < limits.cap) {
      return new HttpError(413, `Image exceeds the storage quota: the project may store ${limits.quota} more bytes.`);
    }
    return new HttpError(413, `The incoming image is too large: the limit is ${limits.cap} bytes.`);
  }
  if (err instanceof StoreSizeMismatch) {
    return new HttpError(400, `Size of uploaded data (${err.got} bytes) does not match the announced size of ${err.expected} bytes.`);
  }
  if (err instanceof StoreFull) return new HttpError(413, `Image storage media is full: ${err.message}`);
  if (err instanceof StoreUnavailable) return new HttpError(503, `Image storage media is unavailable: ${err.message}`);
  if (err instanceof StoreDuplicate) return conflict('Image data already exists in the store.');
  return err;
}

/** The error to answer a client that went away (nobody reads it; it keeps logs honest). */
export class ClientGone extends HttpError {
  constructor() {
    super(400, 'The client closed the connection before the image data was complete.');
  }
}

const failureOf = (err: unknown, data: IncomingData, limits: { cap: number; quota?: number }) =>
  data.signal?.aborted ? new ClientGone() : storeFailure(err, limits);

/** Glance's answer when the image is gone between the status change and the end of the upload. */
const goneDuringUpload = (id: string) =>
  new HttpError(410, `Image ${id} could not be found after upload. The image may have been deleted during the upload, cleaning up the chunks uploaded.`);

/**
 * Moves the image from `from` to `to` (409 when another request got there first, 404 when it
 * is gone) and checks image_count_uploading with the image counted: all in one transaction,
 * so a refusal leaves the status untouched.
 */
async function claim(deps: ImageDeps, image: FullImage, from: ImageStatus, to: ImageStatus): Promise<void> {
  const { id, owner } = image.row;
  await deps.data.write(async (tx) => {
    if (!(await moveStatus(tx, id, from, to))) {
      const now = await tx.selectFrom('image').select('status').where('id', '=', id).executeTakeFirst();
      if (!now) throw notFound(`No image found with ID ${id}`);
      throw transitionRefused(now.status, to);
    }
    if (owner && limitOf(deps.settings, 'image_count_uploading') >= 0) {
      enforce(deps.settings, owner, 'image_count_uploading', await uploadingCount(tx, owner));
    }
  });
}

/** Back to 'queued' with no data attributes (Glance's _restore); never throws, it runs on error paths. */
export async function restoreQueued(deps: { data: ImageDeps['data']; logger: Logger }, imageId: string, from: ImageStatus): Promise<void> {
  try {
    await deps.data.write(async (tx) => {
      await moveStatus(tx, imageId, from, 'queued', NO_DATA);
      await tx.deleteFrom('image_location').where('image_id', '=', imageId).where('status', '=', STAGED).execute();
    });
  } catch (err) {
    deps.logger.error({ err, image_id: imageId }, 'could not restore the image to queued');
  }
}

async function discard(store: ImageStore, location: string, logger: Logger): Promise<void> {
  await store.delete(location).catch((err) => logger.error({ err, location }, 'could not remove image data'));
}

/** The byte budgets of an upload: the size cap, and the project's remaining quota (undefined: none). */
async function budget(deps: ImageDeps, image: FullImage, quota: 'image_size_total' | 'image_stage_total', announced?: number) {
  const cap = deps.settings.imageSizeCap;
  if (announced !== undefined && announced > cap) {
    throw new HttpError(413, `The incoming image is too large: ${announced} bytes exceed the limit of ${cap} bytes.`);
  }
  const owner = image.row.owner;
  const limit = limitOf(deps.settings, quota);
  if (!owner || limit < 0) return { cap, quota: undefined, maxSize: cap };
  const used = quota === 'image_size_total' ? await storageUsage(deps.data.db, owner) : await stagingUsage(deps.data.db, owner);
  enforce(deps.settings, owner, quota, used, announced ?? 0);
  const room = headroom(limit, used);
  return { cap, quota: room, maxSize: Math.min(cap, room) };
}

/** PUT /v2/images/{id}/file, after visibility and policy: stores the data and activates the image. */
export async function uploadImageData(deps: ImageDeps, image: FullImage, store: ImageStore, data: IncomingData): Promise<void> {
  const { id } = image.row;
  if (image.row.status !== 'queued') throw transitionRefused(image.row.status, 'saving');
  const formats = missingFormats(image.row);
  if (formats) throw formats;
  const limits = await budget(deps, image, 'image_size_total', data.size);
  await claim(deps, image, 'queued', 'saving');

  let stored: StoredImage;
  try {
    stored = await store.add(id, data.stream, { expectedSize: data.size, maxSize: limits.maxSize, signal: data.signal });
  } catch (err) {
    await restoreQueued(deps, id, 'saving');
    throw failureOf(err, data, limits);
  }

  let virtualSize: number | null;
  try {
    virtualSize = virtualSizeOf(image.row, stored);
  } catch (err) {
    await discard(store, stored.location, deps.logger);
    await restoreQueued(deps, id, 'saving');
    throw err;
  }

  let activated: boolean;
  try {
    activated = await deps.data.write(async (tx) => {
      const moved = await moveStatus(tx, id, 'saving', 'active', {
        size: stored.size,
        virtual_size: virtualSize,
        checksum: stored.checksum,
        os_hash_algo: stored.osHashAlgo,
        os_hash_value: stored.osHashValue,
      });
      if (!moved) return false;
      await tx
        .insertInto('image_location')
        .values({ image_id: id, store_id: store.id, url: stored.location, status: 'active', size: stored.size, created_at: nowIso() })
        .execute();
      return true;
    });
  } catch (err) {
    await discard(store, stored.location, deps.logger);
    await restoreQueued(deps, id, 'saving');
    throw err;
  }
  if (!activated) {
    await discard(store, stored.location, deps.logger);
    throw goneDuringUpload(id);
  }
}

/**
 * PUT /v2/images/{id}/stage, after visibility and policy: puts the data in the staging area
 * for a later glance-direct import. The image goes 'uploading' and records the staged size;
 * the staged data is an image_location row with status 'staged' in the staging store.
 */
export async function stageImageData(deps: ImageDeps, image: FullImage, data: IncomingData): Promise<void> {
  const { id } = image.row;
  if (image.row.status !== 'queued') throw transitionRefused(image.row.status, 'uploading');
  const limits = await budget(deps, image, 'image_stage_total', data.size);
  await claim(deps, image, 'queued', 'uploading');

  let stored: StoredImage;
  try {
    stored = await deps.staging.add(id, data.stream, { expectedSize: data.size, maxSize: limits.maxSize, signal: data.signal });
  } catch (err) {
    await restoreQueued(deps, id, 'uploading');
    if (err instanceof StoreDuplicate) throw conflict(`The image ${id} has data on staging`);
    throw failureOf(err, data, limits);
  }

  let recorded: boolean;
  try {
    recorded = await deps.data.write(async (tx) => {
      const result = await tx
        .updateTable('image')
        .set({ size: stored.size, updated_at: nowIso() })
        .where('id', '=', id)
        .where('status', '=', 'uploading')
        .executeTakeFirst();
      if (Number(result.numUpdatedRows) === 0) return false;
      await tx
        .insertInto('image_location')
        .values({ image_id: id, store_id: deps.staging.id, url: stored.location, status: STAGED, size: stored.size, created_at: nowIso() })
        .execute();
      return true;
    });
  } catch (err) {
    await discard(deps.staging, stored.location, deps.logger);
    await restoreQueued(deps, id, 'uploading');
    throw err;
  }
  if (!recorded) {
    await discard(deps.staging, stored.location, deps.logger);
    throw notFound(`Image ${id} could not be found after staging; it may have been deleted.`);
  }
}

/**
 * Removes every byte the image has: its active locations in their stores and staged data.
 * For whoever deletes an image (DELETE /v2/images/{id}); failures are logged, not thrown, as
 * the record goes anyway.
 */
export async function discardImageData(deps: ImageDeps, image: FullImage): Promise<void> {
  for (const loc of image.locations) {
    const store = loc.status === STAGED ? deps.staging : deps.stores.has(loc.store_id) ? deps.stores.get(loc.store_id) : undefined;
    if (!store) {
      deps.logger.warn({ image_id: image.row.id, store_id: loc.store_id }, 'image data in a store that is no longer configured');
      continue;
    }
    await discard(store, loc.url, deps.logger);
  }
}
