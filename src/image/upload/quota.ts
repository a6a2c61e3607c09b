// The image quotas of a project, counted the way Glance counts them (glance/db/sqlalchemy/api.py
// and glance/quota/keystone.py), with the limits of [image] instead of Keystone unified limits:
//   image_size_total       bytes of stored data: each image's size once per active location
//                          (a copy-image into a second store counts twice);
//   image_stage_total      bytes waiting in the staging area: images 'uploading' or 'importing';
//   image_count_total      images the project owns;
//   image_count_uploading  uploads and imports under way: images 'saving', 'uploading' or
//                          'importing', plus active images being copied to more stores.
// A limit of -1 is unlimited. Exceeding one is a 413, as Glance answers.
import { sql } from 'kysely';
import { HttpError } from '../../core/http/index.ts';
import type { ImageDb, ImageTx } from '../db/database.ts';
import type { ImageSettings } from '../image-settings.ts';

type Reader = ImageDb | ImageTx;

export const MiB = 1024 * 1024;

/** Statuses whose data no longer counts (Glance excludes them everywhere). */
const GONE = ['killed', 'deleted', 'pending_delete'] as const;
const UPLOADING = ['saving', 'uploading', 'importing'] as const;
/** The property copy-image jobs keep their target stores in while they run. */
export const IMPORTING_TO_STORES = 'os_glance_importing_to_stores';

export type QuotaName = 'image_size_total' | 'image_stage_total' | 'image_count_total' | 'image_count_uploading';

/** Bytes of data stored for the project's images, one copy per active location. */
export async function storageUsage(db: Reader, owner: string): Promise<number> {
  const row = await db
    .selectFrom('image')
    .innerJoin('image_location', 'image_location.image_id', 'image.id')
    .select(sql<string | number | null>`sum(image.size)`.as('total'))
    .where('image.owner', '=', owner)
    .where('image.size', '>', 0)
    .where('image.status', 'not in', GONE)
    .where('image_location.status', '=', 'active')
    .executeTakeFirst();
  return Number(row?.total ?? 0);
}

/** Bytes the project has in the staging area (staged for, or being, imported). */
export async function stagingUsage(db: Reader, owner: string): Promise<number> {
  const row = await db
    .selectFrom('image')
    .select(sql<string | number | null>`sum(size)`.as('total'))
    .where('owner', '=', owner)
    .where('size', '>', 0)
    .where('status', 'in', ['uploading', 'importing'])
    .executeTakeFirst();
  return Number(row?.total ?? 0);
}

export async function imageCount(db: Reader, owner: string): Promise<number> {
  const row = await db
    .selectFrom('image')
    .select((eb) => eb.fn.countAll<string | number>().as('n'))
    .where('owner', '=', owner)
    .where('status', '!=', 'deleted')
    .executeTakeFirst();
  return Number(row?.n ?? 0);
}

/** Uploads, stagings and imports under way, plus copies of active images to more stores. */
export async function uploadingCount(db: Reader, owner: string): Promise<number> {
  const busy = await db
    .selectFrom('image')
    .select((eb) => eb.fn.countAll<string | number>().as('n'))
    .where('owner', '=', owner)
    .where('status', 'in', UPLOADING)
    .executeTakeFirst();
  const copying = await db
    .selectFrom('image')
    .innerJoin('image_property', 'image_property.image_id', 'image.id')
    .select((eb) => eb.fn.countAll<string | number>().as('n'))
    .where('image.owner', '=', owner)
    .where('image.status', 'not in', [...UPLOADING, ...GONE])
    .where('image_property.name', '=', IMPORTING_TO_STORES)
    .where('image_property.value', '!=', '')
    .executeTakeFirst();
  return Number(busy?.n ?? 0) + Number(copying?.n ?? 0);
}

export function limitOf(settings: ImageSettings, name: QuotaName): number {
  const q = settings.quotas;
  switch (name) {
    case 'image_size_total':
      return q.imageSize;
    case 'image_stage_total':
      return q.stageSize;
    case 'image_count_total':
      return q.imageCount;
    case 'image_count_uploading':
      return q.uploadingCount;
  }
}

/** How much more fits under `limit` (Infinity when unlimited, never below 0). */
export function headroom(limit: number, usage: number): number {
  return limit < 0 ? Infinity : Math.max(0, limit - usage);
}

/** The 413 of a quota, worded as oslo.limit words it (Glance passes that text on). */
export function overQuota(owner: string, name: QuotaName, limit: number, usage: number, delta: number): HttpError {
  return new HttpError(
    413,
    `Project ${owner} is over a limit for [Resource ${name} is over limit of ${limit} due to current usage ${usage} and delta ${delta}]`,
  );
}

/** Throws a 413 when `usage + delta` goes over the limit (oslo.limit's rule: equal is fine). */
export function enforce(settings: ImageSettings, owner: string, name: QuotaName, usage: number, delta = 0): void {
  const limit = limitOf(settings, name);
  if (limit >= 0 && usage + delta > limit) throw overQuota(owner, name, limit, usage, delta);
}

export interface QuotaUsage {
  limit: number;
  usage: number;
}

/**
 * GET /v2/info/usage: the four quotas with their limit and usage. As Glance 2.16 reports them,
 * the two size quotas are in MiB (rounded down); our limits are configured in bytes.
 */
export async function projectUsage(db: Reader, settings: ImageSettings, owner: string): Promise<Record<QuotaName, QuotaUsage>> {
  const [stored, staged, count, uploading] = await Promise.all([
    storageUsage(db, owner),
    stagingUsage(db, owner),
    imageCount(db, owner),
    uploadingCount(db, owner),
  ]);
  const mib = (bytes: number) => (bytes < 0 ? -1 : Math.floor(bytes / MiB));
  const q = settings.quotas;
  return {
    image_size_total: { limit: mib(q.imageSize), usage: mib(stored) },
    image_stage_total: { limit: mib(q.stageSize), usage: mib(staged) },
    image_count_total: { limit: q.imageCount, usage: count },
    image_count_uploading: { limit: q.uploadingCount, usage: uploading },
  };
}
