// Reading images with their tags, properties and locations, and the visibility rule that
// decides whether a caller may see an image at all (Glance answers 404, not 403, otherwise).
import type { RequestContext } from '../../core/auth/index.ts';
import type { ImageDb } from './database.ts';
import type { ImageLocationTable, ImageTable, MemberStatus } from './schema.ts';

export interface FullImage {
  row: ImageTable;
  tags: string[];
  properties: Record<string, string>;
  locations: ImageLocationTable[];
  /** the caller's membership, when the image is shared with the caller's project */
  membership?: MemberStatus;
}

export async function loadImage(db: ImageDb, id: string, projectId?: string): Promise<FullImage | undefined> {
  const row = await db.selectFrom('image').selectAll().where('id', '=', id).executeTakeFirst();
  if (!row) return undefined;
  const [tags, props, locations, member] = await Promise.all([
    db.selectFrom('image_tag').select('value').where('image_id', '=', id).orderBy('value').execute(),
    db.selectFrom('image_property').select(['name', 'value']).where('image_id', '=', id).execute(),
    db.selectFrom('image_location').selectAll().where('image_id', '=', id).execute(),
    projectId
      ? db.selectFrom('image_member').select('status').where('image_id', '=', id).where('member', '=', projectId).executeTakeFirst()
      : Promise.resolve(undefined),
  ]);
  return {
    row,
    tags: tags.map((t) => t.value),
    properties: Object.fromEntries(props.map((p) => [p.name, p.value])),
    locations,
    membership: member?.status,
  };
}

/**
 * Whether the caller may see the image: admins see all; everyone sees public and community
 * images; the owner project sees its own; a project it is shared with sees it while a member
 * (in any status — Glance lists only accepted ones by default, but shows pending ones too).
 */
export function canSee(ctx: RequestContext, image: FullImage): boolean {
  if (ctx.roles.includes('admin')) return true;
  const { visibility, owner } = image.row;
  if (visibility === 'public' || visibility === 'community') return true;
  if (owner && owner === ctx.projectId) return true;
  return visibility === 'shared' && image.membership !== undefined;
}
