// Image members: the projects a 'shared' image is shared with, and each member's own answer
// (pending → accepted or rejected). As Glance:
//   - the image must be visible to the caller (404 otherwise), and only 'shared' images have
//     members (403 for any other visibility);
//   - the owner project adds and removes members (add_member, delete_member); only the member
//     project itself sets its status (modify_member: the owner gets a 403);
//   - the owner sees every member; a member project sees only its own entry, and any other
//     member id is a 404 to it;
//   - an image has at most IMAGE_MEMBER_QUOTA members (Glance's image_member_quota), 413 beyond.
// Which shared images a member lists (accepted ones by default) is the listing's business; a
// member in any status may read the image by id (db/images.ts canSee).
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { HttpError, badRequest, conflict, forbidden, notFound } from '../../core/http/index.ts';
import { isUniqueViolation, nowIso } from '../../core/db/index.ts';
import type { RequestContext } from '../../core/auth/index.ts';
import { canSee, loadImage, type FullImage } from '../db/images.ts';
import type { ImageDb, ImageTx } from '../db/database.ts';
import type { ImageMemberTable, MemberStatus } from '../db/schema.ts';
import { glanceTime } from './image-view.ts';
import { authorize, contextOf, isAdmin, type ImageDeps } from './common.ts';

/** Glance's image_member_quota default; -1 would mean unlimited. */
export const IMAGE_MEMBER_QUOTA = 128;
const MEMBER_STATUSES: readonly MemberStatus[] = ['pending', 'accepted', 'rejected'];
/** the image_member.member column's width */
const MAX_MEMBER_ID = 64;

type ImageParams = { image_id: string };
type MemberParams = { image_id: string; member_id: string };

export function memberView(m: ImageMemberTable): Record<string, unknown> {
  return {
    created_at: glanceTime(m.created_at),
    image_id: m.image_id,
    member_id: m.member,
    schema: '/v2/schemas/member',
    status: m.status,
    updated_at: glanceTime(m.updated_at),
  };
}

/** The image, when the caller may see it (404 otherwise, never 403). */
async function visibleImage(deps: ImageDeps, ctx: RequestContext, imageId: string): Promise<FullImage> {
  const image = await loadImage(deps.data.db, imageId, ctx.projectId);
  if (!image || image.row.status === 'deleted' || !canSee(ctx, image)) throw notFound(`Image ${imageId} not found.`);
  return image;
}

/** Members exist only for 'shared' images (Glance's member repository refuses any other). */
function requireShared(image: FullImage): void {
  if (image.row.visibility !== 'shared') {
    throw forbidden(`Error fetching members of image ${image.row.id}: Only shared images have members.`);
  }
}

/** The policy target: the image's owner as project_id, and the member in question. */
function target(image: FullImage, memberId?: string): Record<string, unknown> {
  return { project_id: image.row.owner, member_id: memberId, visibility: image.row.visibility, id: image.row.id };
}

/** Which members of the image the caller may know about: all for the owner and admins, else only its own. */
function membersQuery(db: ImageDb | ImageTx, ctx: RequestContext, image: FullImage) {
  let q = db.selectFrom('image_member').selectAll().where('image_id', '=', image.row.id);
  if (!isAdmin(ctx) && image.row.owner !== ctx.projectId) q = q.where('member', '=', ctx.projectId ?? '');
  return q;
}

async function lookupMember(db: ImageDb | ImageTx, ctx: RequestContext, image: FullImage, memberId: string): Promise<ImageMemberTable> {
  const member = await membersQuery(db, ctx, image).where('member', '=', memberId).executeTakeFirst();
  if (!member) throw notFound(`${memberId} not found in the member list of the image ${image.row.id}.`);
  return member;
}

function bodyObject(req: FastifyRequest): Record<string, unknown> {
  const body = req.body;
  if (body === undefined || body === null) throw badRequest('Body expected in request.');
  if (typeof body !== 'object' || Array.isArray(body)) throw badRequest('Malformed JSON in request body.');
  return body as Record<string, unknown>;
}

function memberIdFrom(req: FastifyRequest): string {
  const body = bodyObject(req);
  if (!('member' in body)) throw badRequest('Member to be added not specified');
  const member = body.member;
  if (typeof member !== 'string') throw badRequest('Expected a member in the form: {"member": "member_id"}');
  if (member.trim() === '') throw badRequest("Member can't be empty");
  if (member.length > MAX_MEMBER_ID) throw badRequest(`Member ID is longer than ${MAX_MEMBER_ID} characters.`);
  return member;
}

/** The requested status: present, else 400 before anything else; its value is checked after policy. */
function statusGiven(req: FastifyRequest): unknown {
  const body = bodyObject(req);
  if (!('status' in body)) throw badRequest('Status not specified');
  return body.status;
}

function validStatus(status: unknown): MemberStatus {
  if (typeof status !== 'string' || !MEMBER_STATUSES.includes(status as MemberStatus)) {
    throw badRequest('Incorrect request: Status must be "pending", "accepted" or "rejected".');
  }
  return status as MemberStatus;
}

export function registerMembers(app: FastifyInstance, deps: ImageDeps): void {
  app.post<{ Params: ImageParams }>('/v2/images/:image_id/members', async (req) => {
    const memberId = memberIdFrom(req); // the body first, as Glance's deserializer
    const ctx = contextOf(req);
    const image = await visibleImage(deps, ctx, req.params.image_id);
    try {
      authorize(req, deps, 'add_member', target(image));
    } catch (err) {
      if (err instanceof HttpError && err.status === 403) throw forbidden(`Not allowed to create members for image ${image.row.id}.`);
      throw err;
    }
    requireShared(image);
    const now = nowIso();
    const row: ImageMemberTable = { image_id: image.row.id, member: memberId, status: 'pending', created_at: now, updated_at: now };
    const duplicate = () => conflict(`Member ${memberId} is duplicated for image ${image.row.id}`);
    try {
      await deps.data.write(async (tx) => {
        const existing = await tx.selectFrom('image_member').select('member').where('image_id', '=', image.row.id).where('member', '=', memberId).executeTakeFirst();
        if (existing) throw duplicate();
        if (IMAGE_MEMBER_QUOTA >= 0) {
          const { count } = await tx.selectFrom('image_member').select((eb) => eb.fn.countAll<number | string>().as('count'))
            .where('image_id', '=', image.row.id).executeTakeFirstOrThrow();
          const attempted = Number(count) + 1;
          if (attempted > IMAGE_MEMBER_QUOTA) {
            throw new HttpError(
              413,
              `Image member limit exceeded for image ${image.row.id}: The limit has been exceeded on the number of allowed image members for this image. Attempted: ${attempted}, Maximum: ${IMAGE_MEMBER_QUOTA}`,
            );
          }
        }
        await tx.insertInto('image_member').values(row).execute();
      });
    } catch (err) {
      if (isUniqueViolation(err)) throw duplicate(); // a concurrent add of the same member
      throw err;
    }
    return memberView(row);
  });

  app.get<{ Params: ImageParams }>('/v2/images/:image_id/members', async (req) => {
    const ctx = contextOf(req);
    const image = await visibleImage(deps, ctx, req.params.image_id);
    requireShared(image);
    authorize(req, deps, 'get_members', target(image, image.membership ? ctx.projectId : undefined));
    const members = await membersQuery(deps.data.db, ctx, image).orderBy('created_at').orderBy('member').execute();
    return { members: members.map(memberView), schema: '/v2/schemas/members' };
  });

  app.get<{ Params: MemberParams }>('/v2/images/:image_id/members/:member_id', async (req) => {
    const ctx = contextOf(req);
    const image = await visibleImage(deps, ctx, req.params.image_id);
    requireShared(image);
    const member = await lookupMember(deps.data.db, ctx, image, req.params.member_id);
    authorize(req, deps, 'get_member', target(image, member.member));
    return memberView(member);
  });

  app.put<{ Params: MemberParams }>('/v2/images/:image_id/members/:member_id', async (req) => {
    const given = statusGiven(req);
    const ctx = contextOf(req);
    const image = await visibleImage(deps, ctx, req.params.image_id);
    requireShared(image);
    const memberId = req.params.member_id;
    await lookupMember(deps.data.db, ctx, image, memberId);
    try {
      authorize(req, deps, 'modify_member', target(image, memberId));
    } catch (err) {
      if (err instanceof HttpError && err.status === 403) throw forbidden(`Not allowed to update members for image ${image.row.id}.`);
      throw err;
    }
    const status = validStatus(given);
    const updated = await deps.data.write(async (tx) => {
      const now = nowIso();
      await tx.updateTable('image_member').set({ status, updated_at: now }).where('image_id', '=', image.row.id).where('member', '=', memberId).execute();
      return lookupMember(tx, ctx, image, memberId); // 404 if the owner removed it meanwhile
    });
    return memberView(updated);
  });

  app.delete<{ Params: MemberParams }>('/v2/images/:image_id/members/:member_id', async (req, reply) => {
    const ctx = contextOf(req);
    const image = await visibleImage(deps, ctx, req.params.image_id);
    try {
      authorize(req, deps, 'delete_member', target(image, req.params.member_id));
    } catch (err) {
      if (err instanceof HttpError && err.status === 403) throw forbidden(`Not allowed to delete image member for image ${image.row.id}.`);
      throw err;
    }
    requireShared(image);
    const memberId = req.params.member_id;
    await deps.data.write(async (tx) => {
      await lookupMember(tx, ctx, image, memberId);
      await tx.deleteFrom('image_member').where('image_id', '=', image.row.id).where('member', '=', memberId).execute();
    });
    reply.status(204).send();
  });
}
