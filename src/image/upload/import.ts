// The interoperable image import (POST /v2/images/{id}/import), as Glance's api_image_import
// flow does it, without a task engine:
//
//   glance-direct  staged data (PUT /stage, image 'uploading') → 'importing' → copied into
//                  each target store → 'active'; the staged data is removed at the end.
//   copy-image     an 'active' image's data → copied into more stores (new locations); the
//                  image stays 'active' throughout.
//
// The request is checked and the intent recorded synchronously (one transaction: the import
// lock os_glance_import_task, the status, os_glance_importing_to_stores, the quotas); the
// copying runs in the background after the 202, reporting progress in the image's
// properties exactly as Glance: a store leaves os_glance_importing_to_stores when done, and
// a store that failed is listed in os_glance_failed_import.
//
// Failure, as Glance's flow reverts it:
//   - all_stores_must_succeed (the default): one failed store undoes the job: data written
//     by it is removed, and a glance-direct image goes back to 'queued'. We also remove
//     the staged data then (Glance leaves it for its periodic staging cleaner), so the image
//     is a plain queued image that can be staged again.
//   - otherwise a failed store is just listed; the image goes active with the first store
//     that succeeds, and only when every store failed is the job undone as above.
// If the image is deleted while the job runs, whatever the job wrote is removed.
//
// Each job is recorded as a task (Image API 2.12, GET /v2/images/{id}/tasks), as Glance's
// api_image_import task: its id is the import lock's value; 'pending' when accepted (in the
// same transaction as the lock), 'processing' once the job runs, then 'success' (result
// {"image_id"}) or 'failure' (message: why), finished in the same transaction that releases
// the lock. A finished task expires TASK_TIME_TO_LIVE_MS later (Glance's task_time_to_live,
// 48 hours) and is then purged; a task goes with its image (foreign key cascade).
//
// web-download (fetching a URL from the API host) and glance-download are not offered.
import { randomUUID } from 'node:crypto';
import type { Readable } from 'node:stream';
import { conflict } from '../../core/http/index.ts';
import { isUniqueViolation, nowIso } from '../../core/db/index.ts';
import type { ImageDeps } from '../api/common.ts';
import { loadImage, type FullImage } from '../db/images.ts';
import type { ImageTx } from '../db/database.ts';
import type { ImageLocationTable } from '../db/schema.ts';
import type { ImageStore, StoredImage } from '../store/types.ts';
import { IMPORTING_TO_STORES, enforce, limitOf, storageUsage, uploadingCount } from './quota.ts';
import { NO_DATA, moveStatus, transitionRefused } from './status.ts';
import { STAGED, storeFailure, virtualSizeOf } from './upload.ts';

export const IMPORT_METHODS = ['glance-direct', 'copy-image'] as const;
export type ImportMethod = (typeof IMPORT_METHODS)[number];

/** The import lock: the id of the job that holds it (Glance stores its task id there). */
export const IMPORT_TASK = 'os_glance_import_task';
export const FAILED_IMPORT = 'os_glance_failed_import';
export { IMPORTING_TO_STORES };

/** Glance's task type of an interoperable import. */
export const IMPORT_TASK_TYPE = 'api_image_import';
/** How long a finished task is kept: Glance's [task] task_time_to_live default, 48 hours. */
export const TASK_TIME_TO_LIVE_MS = 48 * 3600 * 1000;
/** Glance's message for a job that failed in an unforeseen way. */
const INTERNAL_ERROR = 'Task failed due to Internal Error';
/** Beyond this, a task's input keeps only the import body's known fields (the column is a TEXT: 64 KiB on MySQL). */
const MAX_INPUT_BYTES = 60_000;

/** Who asked for the import, recorded in its task. */
export interface ImportOrigin {
  /** the caller's project: the task's owner */
  projectId?: string;
  userId: string;
  /** the x-openstack-request-id of the POST /import */
  requestId: string;
  /** the request body as sent */
  request: unknown;
}

export interface ImportPlan {
  method: ImportMethod;
  /** the target stores, in order, already validated */
  stores: ImageStore[];
  allStoresMustSucceed: boolean;
}

// ---- properties holding comma-separated store lists ----

async function readList(tx: ImageTx, imageId: string, name: string): Promise<string[]> {
  const row = await tx.selectFrom('image_property').select('value').where('image_id', '=', imageId).where('name', '=', name).executeTakeFirst();
  return row?.value ? row.value.split(',').filter(Boolean) : [];
}

async function setProperty(tx: ImageTx, imageId: string, name: string, value: string): Promise<void> {
  await tx.deleteFrom('image_property').where('image_id', '=', imageId).where('name', '=', name).execute();
  await tx.insertInto('image_property').values({ image_id: imageId, name, value }).execute();
}

/** Adds and removes store ids in the property's list; an empty list stays as '' (Glance shows it so). */
async function editList(tx: ImageTx, imageId: string, name: string, add: string[], remove: string[]): Promise<void> {
  const current = await readList(tx, imageId, name);
  const next = [...current.filter((s) => !remove.includes(s)), ...add.filter((s) => !current.includes(s) && !remove.includes(s))];
  await setProperty(tx, imageId, name, next.join(','));
}

/** Property changes are image changes: updated_at moves, as Glance's image save does. */
async function touch(tx: ImageTx, imageId: string): Promise<void> {
  await tx.updateTable('image').set({ updated_at: nowIso() }).where('id', '=', imageId).execute();
}

async function holdsLock(tx: ImageTx, imageId: string, taskId: string): Promise<boolean> {
  const row = await tx.selectFrom('image_property').select('value').where('image_id', '=', imageId).where('name', '=', IMPORT_TASK).executeTakeFirst();
  return row?.value === taskId;
}

async function releaseLock(tx: ImageTx, imageId: string, taskId: string): Promise<void> {
  await tx.deleteFrom('image_property').where('image_id', '=', imageId).where('name', '=', IMPORT_TASK).where('value', '=', taskId).execute();
}

// ---- the task row ----

type TaskOutcome = { status: 'success'; result: Record<string, unknown> } | { status: 'failure'; message: string };

function taskInput(imageId: string, origin: ImportOrigin, storeIds: string[]): string {
  const input = (request: unknown) => JSON.stringify({ image_id: imageId, import_req: request, backend: storeIds });
  const full = input(origin.request);
  if (Buffer.byteLength(full) <= MAX_INPUT_BYTES) return full;
  // An oversized body (the checks let unknown fields through): what the import used of it.
  const body = (origin.request ?? {}) as Record<string, unknown>;
  const known: Record<string, unknown> = { method: { name: (body.method as { name?: unknown } | undefined)?.name } };
  for (const k of ['stores', 'all_stores', 'all_stores_must_succeed']) if (k in body) known[k] = body[k];
  return input(known);
}

async function insertTask(tx: ImageTx, taskId: string, imageId: string, origin: ImportOrigin, storeIds: string[], outcome?: TaskOutcome): Promise<void> {
  const now = nowIso();
  await tx
    .insertInto('task')
    .values({
      id: taskId,
      type: IMPORT_TASK_TYPE,
      status: outcome?.status ?? 'pending',
      owner: origin.projectId ?? null,
      image_id: imageId,
      user_id: origin.userId,
      request_id: origin.requestId,
      input: taskInput(imageId, origin, storeIds),
      result: outcome?.status === 'success' ? JSON.stringify(outcome.result) : null,
      message: outcome?.status === 'failure' ? outcome.message : '',
      expires_at: outcome ? new Date(Date.now() + TASK_TIME_TO_LIVE_MS).toISOString() : null,
      created_at: now,
      updated_at: now,
    })
    .execute();
}

/** pending → processing; nothing when the task is gone (its image was deleted). */
async function beginTask(deps: ImageDeps, taskId: string): Promise<void> {
  await deps.data.write((tx) =>
    tx.updateTable('task').set({ status: 'processing', updated_at: nowIso() }).where('id', '=', taskId).where('status', '=', 'pending').execute(),
  );
}

/** Finishes a task that is still running; a finished one is left as it is (Glance refuses that transition). */
async function endTask(tx: ImageTx, taskId: string, outcome: TaskOutcome): Promise<void> {
  await tx
    .updateTable('task')
    .set({
      status: outcome.status,
      result: outcome.status === 'success' ? JSON.stringify(outcome.result) : null,
      message: outcome.status === 'failure' ? outcome.message : '',
      expires_at: new Date(Date.now() + TASK_TIME_TO_LIVE_MS).toISOString(),
      updated_at: nowIso(),
    })
    .where('id', '=', taskId)
    .where('status', 'in', ['pending', 'processing'])
    .execute();
}

/** Removes tasks past their expiry (Glance soft-deletes them when tasks are read). */
async function purgeExpiredTasks(deps: ImageDeps): Promise<void> {
  await deps.data.write((tx) => tx.deleteFrom('task').where('expires_at', '<', nowIso()).execute());
}

/** Why a store's copy failed, for the task's message. */
function failureMessage(storeId: string, err: unknown): string {
  const reason = storeFailure(err);
  const text = reason instanceof Error ? reason.message : String(reason);
  return `Import into store '${storeId}' failed: ${text}`;
}

// ---- the background jobs of one service instance ----

const running = new WeakMap<object, Set<Promise<void>>>();

/** Resolves when every import job this service instance started has finished (tests, shutdown). */
export async function importsInFlight(deps: Pick<ImageDeps, 'data'>): Promise<void> {
  const jobs = running.get(deps.data);
  while (jobs && jobs.size > 0) await Promise.allSettled([...jobs]);
}

function track(deps: ImageDeps, job: Promise<void>): void {
  let jobs = running.get(deps.data);
  if (!jobs) running.set(deps.data, (jobs = new Set()));
  const set = jobs;
  const tracked = job.finally(() => set.delete(tracked));
  set.add(tracked);
}

// ---- starting an import ----

/**
 * Records the import (lock, status, progress properties, quotas) and starts the job. Throws
 * the 409/413 Glance answers; once it returns, the API answers 202. Visibility, policy and the
 * request body were checked by the caller.
 */
export async function startImport(deps: ImageDeps, image: FullImage, plan: ImportPlan, origin: ImportOrigin): Promise<string> {
  const { id, owner } = image.row;
  const storeIds = plan.stores.map((s) => s.id);
  const taskId = randomUUID();
  const busy = () => conflict(`New operation on image '${id}' is not permitted as prior operation is still in progress`);
  try {
    await deps.data.write(async (tx) => {
      await tx.insertInto('image_property').values({ image_id: id, name: IMPORT_TASK, value: taskId }).execute();
      await insertTask(tx, taskId, id, origin, storeIds);
      if (plan.method === 'glance-direct') {
        if (!(await moveStatus(tx, id, 'uploading', 'importing'))) {
          const now = await tx.selectFrom('image').select('status').where('id', '=', id).executeTakeFirst();
          throw now ? transitionRefused(now.status, 'importing') : conflict(`Image ${id} is gone.`);
        }
      } else {
        const now = await tx.selectFrom('image').select('status').where('id', '=', id).executeTakeFirst();
        if (now?.status !== 'active') throw conflict('Only images with status active can be targeted for copying');
      }
      await editList(tx, id, IMPORTING_TO_STORES, storeIds, []);
      await editList(tx, id, FAILED_IMPORT, [], storeIds);
      await touch(tx, id);
      if (owner) {
        // Every new location adds the image's size to the project's stored bytes.
        if (limitOf(deps.settings, 'image_size_total') >= 0) {
          const delta = Number(image.row.size ?? 0) * storeIds.length;
          enforce(deps.settings, owner, 'image_size_total', await storageUsage(tx, owner), delta);
        }
        if (plan.method === 'copy-image' && limitOf(deps.settings, 'image_count_uploading') >= 0) {
          enforce(deps.settings, owner, 'image_count_uploading', await uploadingCount(tx, owner));
        }
      }
    });
  } catch (err) {
    if (isUniqueViolation(err)) throw busy();
    throw err;
  }
  const job = runImport(deps, { taskId, imageId: id, ...plan }).catch(async (err) => {
    deps.logger.error({ err, image_id: id, task_id: taskId }, 'image import failed unexpectedly');
    await deps.data
      .write((tx) => endTask(tx, taskId, { status: 'failure', message: INTERNAL_ERROR }))
      .catch((e) => deps.logger.error({ err: e, task_id: taskId }, 'could not record the failure of an import task'));
  });
  track(deps, job);
  await purgeExpiredTasks(deps).catch((err) => deps.logger.warn({ err }, 'could not purge expired tasks'));
  return taskId;
}

/**
 * copy-image with all_stores when every store already holds the image: nothing to copy. The
 * image shows both progress properties, empty, as after a finished copy (clients wait for
 * them), and a task is recorded that succeeded at once. 409 while another import holds the lock.
 */
export async function recordNothingToCopy(deps: ImageDeps, image: FullImage, origin: ImportOrigin): Promise<string> {
  const { id } = image.row;
  const taskId = randomUUID();
  await deps.data.write(async (tx) => {
    const lock = await tx.selectFrom('image_property').select('value').where('image_id', '=', id).where('name', '=', IMPORT_TASK).executeTakeFirst();
    if (lock) throw conflict(`New operation on image '${id}' is not permitted as prior operation is still in progress`);
    const now = await tx.selectFrom('image').select('status').where('id', '=', id).executeTakeFirst();
    if (now?.status !== 'active') throw conflict('Only images with status active can be targeted for copying');
    await setProperty(tx, id, IMPORTING_TO_STORES, '');
    await setProperty(tx, id, FAILED_IMPORT, '');
    await touch(tx, id);
    await insertTask(tx, taskId, id, origin, [], { status: 'success', result: { image_id: id } });
  });
  return taskId;
}

// ---- the job ----

interface Job extends ImportPlan {
  taskId: string;
  imageId: string;
}

interface Written {
  store: ImageStore;
  location: string;
}

/** Where the job reads from: the staged data, or (copy-image) an active location of the image. */
function sourceOf(deps: ImageDeps, image: FullImage, method: ImportMethod): { store: ImageStore; location: ImageLocationTable } | undefined {
  if (method === 'glance-direct') {
    const staged = image.locations.find((l) => l.status === STAGED);
    return staged ? { store: deps.staging, location: staged } : undefined;
  }
  for (const location of image.locations) {
    if (location.status !== 'active' || !deps.stores.has(location.store_id)) continue;
    return { store: deps.stores.get(location.store_id), location };
  }
  return undefined;
}

/** Streams the source into `target`; the source stream is closed whatever happens. */
async function copyInto(target: ImageStore, imageId: string, source: { store: ImageStore; location: ImageLocationTable }, size: number | undefined): Promise<StoredImage> {
  const { stream } = await source.store.get(source.location.url);
  try {
    return await target.add(imageId, stream, { expectedSize: size });
  } finally {
    (stream as Readable).destroy?.();
  }
}

async function runImport(deps: ImageDeps, job: Job): Promise<void> {
  const { imageId, taskId, method } = job;
  const log = deps.logger.child({ image_id: imageId, task_id: taskId, import_method: method });
  const written: Written[] = [];
  const failed: string[] = [];
  const reasons: string[] = [];

  await beginTask(deps, taskId);
  const image = await loadImage(deps.data.db, imageId);
  const source = image && sourceOf(deps, image, method);
  if (!image || !source) {
    log.error('import has no data to read from');
    if (image) await undo(deps, job, written, job.stores.map((s) => s.id), 'The image has no data to import.');
    return;
  }
  const expectedSize = image.row.size === null ? undefined : Number(image.row.size);

  for (const [index, store] of job.stores.entries()) {
    let stored: StoredImage | undefined;
    try {
      stored = await copyInto(store, imageId, source, expectedSize);
      let virtualSize: number | null = null;
      if (method === 'glance-direct') virtualSize = virtualSizeOf(image.row, stored);
      else if (image.row.checksum && stored.checksum !== image.row.checksum) {
        throw new Error(`the copy in store ${store.id} does not match the image checksum`);
      }
      const activate = method === 'glance-direct' && (!job.allStoresMustSucceed || index === job.stores.length - 1);
      const result = await recordLocation(deps, job, store, stored, virtualSize, activate);
      if (result === 'gone') {
        log.warn('image deleted during import; removing what was written');
        await discardAll(deps, [...written, { store, location: stored.location }], log);
        await discardStaged(deps, source, method, log);
        // The task went with a deleted image; one whose lock was taken away is failed.
        await deps.data.write((tx) => endTask(tx, taskId, { status: 'failure', message: 'The image was deleted or its import lock lost during the import.' }));
        return;
      }
      written.push({ store, location: stored.location });
    } catch (err) {
      if (stored) await store.delete(stored.location).catch((e) => log.error({ err: e }, 'could not remove a failed copy'));
      log.warn({ err: storeFailure(err), store_id: store.id }, 'import into a store failed');
      failed.push(store.id);
      reasons.push(failureMessage(store.id, err));
      if (job.allStoresMustSucceed) {
        await undo(deps, job, written, failed, reasons.join('; '));
        await discardStaged(deps, source, method, log);
        return;
      }
      await deps.data.write(async (tx) => {
        await editList(tx, imageId, IMPORTING_TO_STORES, [], [store.id]);
        await editList(tx, imageId, FAILED_IMPORT, [store.id], []);
        await touch(tx, imageId);
      });
    }
  }

  if (written.length === 0) {
    await undo(deps, job, written, failed, reasons.join('; '));
    await discardStaged(deps, source, method, log);
    return;
  }
  await deps.data.write(async (tx) => {
    if (method === 'glance-direct') {
      await tx.deleteFrom('image_location').where('image_id', '=', imageId).where('status', '=', STAGED).execute();
    }
    await releaseLock(tx, imageId, taskId);
    await endTask(tx, taskId, { status: 'success', result: { image_id: imageId } });
  });
  await discardStaged(deps, source, method, log);
  log.info({ stores: written.map((w) => w.store.id), failed }, 'image import finished');
}

/** Records one store's copy; activates a glance-direct image when told. 'gone': the image was deleted meanwhile. */
async function recordLocation(
  deps: ImageDeps,
  job: Job,
  store: ImageStore,
  stored: StoredImage,
  virtualSize: number | null,
  activate: boolean,
): Promise<'ok' | 'gone'> {
  const { imageId } = job;
  return deps.data.write(async (tx) => {
    const row = await tx.selectFrom('image').select(['status']).where('id', '=', imageId).executeTakeFirst();
    if (!row || row.status === 'deleted' || !(await holdsLock(tx, imageId, job.taskId))) return 'gone';
    await tx
      .insertInto('image_location')
      .values({ image_id: imageId, store_id: store.id, url: stored.location, status: 'active', size: stored.size, created_at: nowIso() })
      .execute();
    if (job.method === 'glance-direct') {
      const data = {
        size: stored.size,
        virtual_size: virtualSize,
        checksum: stored.checksum,
        os_hash_algo: stored.osHashAlgo,
        os_hash_value: stored.osHashValue,
      };
      if (activate) await moveStatus(tx, imageId, 'importing', 'active', data);
      else await tx.updateTable('image').set({ ...data, updated_at: nowIso() }).where('id', '=', imageId).execute();
    } else {
      await touch(tx, imageId);
    }
    await editList(tx, imageId, IMPORTING_TO_STORES, [], [store.id]);
    return 'ok';
  });
}

/** Undoes a failed job: its copies go, the stores are listed as failed, a glance-direct image is queued again, the task fails with `reason`. */
async function undo(deps: ImageDeps, job: Job, written: Written[], failed: string[], reason: string): Promise<void> {
  const log = deps.logger.child({ image_id: job.imageId, task_id: job.taskId });
  await discardAll(deps, written, log);
  const storeIds = job.stores.map((s) => s.id);
  try {
    await deps.data.write(async (tx) => {
      for (const w of written) {
        await tx.deleteFrom('image_location').where('image_id', '=', job.imageId).where('store_id', '=', w.store.id).where('url', '=', w.location).execute();
      }
      if (!(await tx.selectFrom('image').select('id').where('id', '=', job.imageId).executeTakeFirst())) return;
      await editList(tx, job.imageId, IMPORTING_TO_STORES, [], storeIds);
      await editList(tx, job.imageId, FAILED_IMPORT, failed, []);
      await touch(tx, job.imageId);
      if (job.method === 'glance-direct') {
        await moveStatus(tx, job.imageId, 'importing', 'queued', NO_DATA);
        await tx.deleteFrom('image_location').where('image_id', '=', job.imageId).where('status', '=', STAGED).execute();
      }
      await releaseLock(tx, job.imageId, job.taskId);
      await endTask(tx, job.taskId, { status: 'failure', message: reason || INTERNAL_ERROR });
    });
  } catch (err) {
    log.error({ err }, 'could not record the failure of an import');
  }
}

async function discardAll(deps: ImageDeps, written: Written[], log: ImageDeps['logger']): Promise<void> {
  for (const w of written) await w.store.delete(w.location).catch((err) => log.error({ err, location: w.location }, 'could not remove imported data'));
}

async function discardStaged(
  deps: ImageDeps,
  source: { store: ImageStore; location: ImageLocationTable },
  method: ImportMethod,
  log: ImageDeps['logger'],
): Promise<void> {
  if (method !== 'glance-direct') return;
  await source.store.delete(source.location.url).catch((err) => log.error({ err }, 'could not remove staged data'));
}
