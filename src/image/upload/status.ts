// The image status machine of Glance (glance/domain Image.valid_state_targets) and the one
// way this service moves an image along it: a conditional UPDATE ... WHERE status = <from>,
// so of two requests racing for the same transition exactly one wins.
import { nowIso } from '../../core/db/index.ts';
import { HttpError, conflict } from '../../core/http/index.ts';
import type { ImageTx } from '../db/database.ts';
import type { ImageStatus, ImageTable } from '../db/schema.ts';

export const VALID_TRANSITIONS: Readonly<Record<ImageStatus, readonly ImageStatus[]>> = {
  queued: ['saving', 'uploading', 'importing', 'active', 'deleted'],
  // back to queued so that a failed upload can be retried (Glance no longer uses 'killed')
  saving: ['active', 'killed', 'deleted', 'queued'],
  uploading: ['importing', 'queued', 'deleted'],
  importing: ['active', 'deleted', 'queued'],
  active: ['pending_delete', 'deleted', 'deactivated'],
  killed: ['deleted'],
  pending_delete: ['deleted', 'active'],
  deleted: [],
  deactivated: ['active', 'deleted'],
};

/** Glance's InvalidImageStatusTransition, a 409. */
export function transitionRefused(from: ImageStatus, to: ImageStatus): HttpError {
  return conflict(`Image status transition from ${from} to ${to} is not allowed`);
}

/**
 * Before data is saved, Glance wants both formats (a ValueError there, so a 400). Returns the
 * error, or undefined when the image has both.
 */
export function missingFormats(row: Pick<ImageTable, 'disk_format' | 'container_format'>): HttpError | undefined {
  const missing = (['disk_format', 'container_format'] as const).filter((k) => !row[k]);
  if (missing.length === 0) return undefined;
  const noun = missing.length === 1 ? 'Property' : 'Properties';
  return new HttpError(400, `${noun} ${missing.join(', ')} must be set prior to saving data.`);
}

/** The columns that describe an image's data; a queued image has none of them. */
export const NO_DATA = {
  size: null,
  virtual_size: null,
  checksum: null,
  os_hash_algo: null,
  os_hash_value: null,
} satisfies Partial<ImageTable>;

/**
 * Moves the image from `from` to `to` (setting `changes` too) if it is still in `from`.
 * Returns false when it is not (another request moved it, or it is gone).
 */
export async function moveStatus(
  tx: ImageTx,
  imageId: string,
  from: ImageStatus,
  to: ImageStatus,
  changes: Partial<Omit<ImageTable, 'id' | 'status'>> = {},
): Promise<boolean> {
  const result = await tx
    .updateTable('image')
    .set({ ...changes, status: to, updated_at: nowIso() })
    .where('id', '=', imageId)
    .where('status', '=', from)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}
