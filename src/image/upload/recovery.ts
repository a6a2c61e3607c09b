// What a process that died in the middle of moving data leaves behind, put back in order:
//   'saving'     an upload cut short            → 'queued' (the store's temporary file is swept by
//                                                  the store itself, FileStore.sweepTemporaryFiles)
//   'uploading'  a staging cut short (no staged
//                data recorded)                  → 'queued'
//   'importing'  a glance-direct job that died   → undone as a failed import: 'queued', what it
//                                                  wrote and the staged data removed
//   an active image still locked by a copy-image job → lock dropped, the stores it had not
//                                                  finished listed in os_glance_failed_import
// Only images not updated for `olderThanMs` are touched, so that several API processes can
// share one database: a start-up must not undo uploads another process is serving. The
// all-in-one (one process) can pass 0.
import { nowIso } from '../../core/db/index.ts';
import type { ImageDeps } from '../api/common.ts';
import { IMPORTING_TO_STORES } from './quota.ts';
import { FAILED_IMPORT, IMPORT_TASK } from './import.ts';
import { NO_DATA, moveStatus } from './status.ts';
import { STAGED } from './upload.ts';

export interface Recovered {
  /** ids of the images put back in order */
  images: string[];
}

export async function recoverInterruptedTransfers(deps: ImageDeps, opts: { olderThanMs: number }): Promise<Recovered> {
  const cutoff = new Date(Date.now() - opts.olderThanMs).toISOString();
  const images: string[] = [];
  const db = deps.data.db;

  const stale = await db
    .selectFrom('image')
    .select(['id', 'status'])
    .where('status', 'in', ['saving', 'uploading', 'importing'])
    .where('updated_at', '<=', cutoff)
    .execute();
  const locked = await db
    .selectFrom('image')
    .innerJoin('image_property', 'image_property.image_id', 'image.id')
    .select(['image.id as id', 'image_property.value as task'])
    .where('image_property.name', '=', IMPORT_TASK)
    .where('image.status', '=', 'active')
    .where('image.updated_at', '<=', cutoff)
    .execute();

  for (const { id, status } of stale) {
    if (status === 'saving') {
      if (await deps.data.write((tx) => moveStatus(tx, id, 'saving', 'queued', NO_DATA))) images.push(id);
      continue;
    }
    const locations = await db.selectFrom('image_location').selectAll().where('image_id', '=', id).execute();
    if (status === 'uploading') {
      // Staged data recorded: a finished staging waiting for its import; nothing to do.
      if (locations.some((l) => l.status === STAGED)) continue;
      if (await deps.data.write((tx) => moveStatus(tx, id, 'uploading', 'queued', NO_DATA))) images.push(id);
      continue;
    }
    // importing: the job is gone; undo it like a failed import.
    const importing = await db.selectFrom('image_property').select('value').where('image_id', '=', id).where('name', '=', IMPORTING_TO_STORES).executeTakeFirst();
    const undone = await deps.data.write(async (tx) => {
      if (!(await moveStatus(tx, id, 'importing', 'queued', NO_DATA))) return false;
      await tx.deleteFrom('image_location').where('image_id', '=', id).execute();
      await failStores(tx, id, importing?.value ?? '');
      await failInterruptedTasks(tx, id);
      await tx.deleteFrom('image_property').where('image_id', '=', id).where('name', '=', IMPORT_TASK).execute();
      return true;
    });
    if (!undone) continue;
    for (const loc of locations) {
      const store = loc.status === STAGED ? deps.staging : deps.stores.has(loc.store_id) ? deps.stores.get(loc.store_id) : undefined;
      await store?.delete(loc.url).catch((err) => deps.logger.error({ err, image_id: id }, 'could not remove data of an interrupted import'));
    }
    images.push(id);
  }

  for (const { id, task } of locked) {
    // A copy-image job that died: the copies it recorded are complete; the rest failed.
    await deps.data.write(async (tx) => {
      const importing = await tx.selectFrom('image_property').select('value').where('image_id', '=', id).where('name', '=', IMPORTING_TO_STORES).executeTakeFirst();
      await failStores(tx, id, importing?.value ?? '');
      await failInterruptedTasks(tx, id);
      await tx.deleteFrom('image_property').where('image_id', '=', id).where('name', '=', IMPORT_TASK).where('value', '=', task).execute();
      await tx.updateTable('image').set({ updated_at: nowIso() }).where('id', '=', id).execute();
    });
    images.push(id);
  }
  if (images.length) deps.logger.warn({ images }, 'put back in order image uploads and imports interrupted by a restart');
  return { images };
}

/** The image's tasks that a restart cut short end as failures, kept for 48 h like any finished task. */
async function failInterruptedTasks(tx: Parameters<Parameters<ImageDeps['data']['write']>[0]>[0], id: string): Promise<void> {
  const now = new Date();
  await tx.updateTable('task')
    .set({
      status: 'failure',
      message: 'The import was interrupted by a restart of the image service.',
      updated_at: now.toISOString(),
      expires_at: new Date(now.getTime() + 48 * 3600_000).toISOString(),
    })
    .where('image_id', '=', id)
    .where('status', 'in', ['pending', 'processing'])
    .execute();
}

/** Moves the stores of os_glance_importing_to_stores to os_glance_failed_import. */
async function failStores(tx: Parameters<Parameters<ImageDeps['data']['write']>[0]>[0], id: string, importing: string): Promise<void> {
  const stores = importing.split(',').filter(Boolean);
  const failed = await tx.selectFrom('image_property').select('value').where('image_id', '=', id).where('name', '=', FAILED_IMPORT).executeTakeFirst();
  const all = [...new Set([...(failed?.value ?? '').split(',').filter(Boolean), ...stores])];
  await tx.deleteFrom('image_property').where('image_id', '=', id).where('name', 'in', [IMPORTING_TO_STORES, FAILED_IMPORT]).execute();
  await tx.insertInto('image_property').values([
    { image_id: id, name: IMPORTING_TO_STORES, value: '' },
    { image_id: id, name: FAILED_IMPORT, value: all.join(',') },
  ]).execute();
}
