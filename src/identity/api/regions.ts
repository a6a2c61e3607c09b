// /v3/regions. Regions form a tree through parent_region_id. As Keystone does (its code, not
// its api-ref, which speaks of a 409): deleting a region deletes its whole subtree, and is
// refused with 403 while the region or any region below it still has endpoints.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { HttpError, badRequest, conflict, notFound } from '../../core/http/index.ts';
import type { RegionTable } from '../db/schema.ts';
import type { IdentityDb } from '../db/store.ts';
import { authorize, bodyObject, collection, extraOf, field, newId, parseJson, selfLink, uniquely, type IdentityDeps } from './common.ts';

const KNOWN = ['id', 'description', 'parent_region_id'];

export function regionView(req: FastifyRequest, deps: IdentityDeps, r: RegionTable) {
  return {
    ...parseJson(r.extra),
    id: r.id,
    description: r.description,
    parent_region_id: r.parent_region_id,
    links: selfLink(req, deps, `regions/${encodeURIComponent(r.id)}`),
  };
}

const getRegion = (db: IdentityDb, id: string) => db.selectFrom('region').selectAll().where('id', '=', id).executeTakeFirst();

/** The ids of every region below `id` (not including it). */
function descendants(all: RegionTable[], id: string): string[] {
  const found: string[] = [];
  let frontier = [id];
  while (frontier.length) {
    const next = all.filter((r) => r.parent_region_id !== null && frontier.includes(r.parent_region_id) && r.id !== id && !found.includes(r.id));
    found.push(...next.map((r) => r.id));
    frontier = next.map((r) => r.id);
  }
  return found;
}

/** The region fields of a create or update body, checked. */
function regionFields(body: Record<string, unknown>) {
  const description = field<string | null>(body, 'description', 'nullable-string', { maxLength: 255 });
  const parent = field<string | null>(body, 'parent_region_id', 'nullable-string', { maxLength: 255 });
  if (parent === '') throw badRequest("Invalid input for field 'parent_region_id': '' is too short.");
  return { description, parent };
}

export function registerRegions(app: FastifyInstance, deps: IdentityDeps): void {
  const db = () => deps.store.db;
  const load = async (id: string) => {
    const row = await getRegion(db(), id);
    if (!row) throw notFound(`Could not find region: ${id}.`);
    return row;
  };

  const create = async (req: FastifyRequest, body: Record<string, unknown>, id: string) => {
    const { description, parent } = regionFields(body);
    if (await getRegion(db(), id)) throw conflict(`Conflict occurred attempting to store region - Duplicate ID, ${id}.`);
    if (parent && !(await getRegion(db(), parent))) throw notFound(`Could not find region: ${parent}.`);
    const row: RegionTable = { id, description: description ?? '', parent_region_id: parent ?? null, extra: extraOf(body, KNOWN) };
    await uniquely(`region ${id}`, () => deps.store.write(async (tx) => {
      // re-checked inside the transaction: the parent may have gone meanwhile
      if (row.parent_region_id && !(await tx.selectFrom('region').select('id').where('id', '=', row.parent_region_id).executeTakeFirst())) {
        throw notFound(`Could not find region: ${row.parent_region_id}.`);
      }
      await tx.insertInto('region').values(row).execute();
    }));
    return { region: regionView(req, deps, (await getRegion(db(), id))!) };
  };

  app.get('/v3/regions', async (req) => {
    authorize(req, deps, 'identity:list_regions');
    const q = req.query as Record<string, string | undefined>;
    let query = db().selectFrom('region').selectAll();
    if (q.parent_region_id !== undefined) query = query.where('parent_region_id', '=', q.parent_region_id);
    const rows = await query.orderBy('id').execute();
    return collection(req, deps, 'regions', rows.map((r) => regionView(req, deps, r)));
  });

  app.get<{ Params: { id: string } }>('/v3/regions/:id', async (req) => {
    authorize(req, deps, 'identity:get_region');
    return { region: regionView(req, deps, await load(req.params.id)) };
  });

  app.post('/v3/regions', async (req, reply) => {
    authorize(req, deps, 'identity:create_region');
    const body = bodyObject(req.body, 'region');
    // An id may be given here too (historical); an empty one means "make one up".
    const given = field<string | null>(body, 'id', 'nullable-string', { maxLength: 255 });
    const result = await create(req, body, given || newId());
    reply.status(201);
    return result;
  });

  app.put<{ Params: { id: string } }>('/v3/regions/:id', async (req, reply) => {
    authorize(req, deps, 'identity:create_region');
    const body = bodyObject(req.body, 'region');
    const given = field<string | null>(body, 'id', 'nullable-string', { maxLength: 255 });
    if (given !== undefined && given !== req.params.id) {
      throw badRequest(`Conflicting region IDs specified: "${req.params.id}" != "${String(given)}".`);
    }
    if (req.params.id.length > 255) throw badRequest("Invalid input for field 'id': the value is longer than 255 characters.");
    const result = await create(req, body, req.params.id);
    reply.status(201);
    return result;
  });

  app.patch<{ Params: { id: string } }>('/v3/regions/:id', async (req) => {
    authorize(req, deps, 'identity:update_region');
    const body = bodyObject(req.body, 'region');
    if (Object.keys(body).length === 0) throw badRequest("Invalid input for field 'region': it must name at least one attribute.");
    const row = await load(req.params.id);
    if (body.id !== undefined && body.id !== row.id) throw badRequest('Cannot change the ID of a region.');
    const { description, parent } = regionFields(body);
    await deps.store.write(async (tx) => {
      if (parent) {
        const all = await tx.selectFrom('region').selectAll().execute();
        if (!all.some((r) => r.id === parent)) throw notFound(`Could not find region: ${parent}.`);
        if (parent === row.id || descendants(all, row.id).includes(parent)) {
          throw badRequest(`The specified parent region ${parent} would create a circular region hierarchy.`);
        }
      }
      const extra = { ...parseJson(row.extra), ...JSON.parse(extraOf(body, KNOWN)) };
      await tx.updateTable('region').set({
        description: description === undefined ? row.description : (description ?? ''),
        parent_region_id: parent === undefined ? row.parent_region_id : parent,
        extra: JSON.stringify(extra),
      }).where('id', '=', row.id).execute();
    });
    return { region: regionView(req, deps, (await getRegion(db(), row.id))!) };
  });

  app.delete<{ Params: { id: string } }>('/v3/regions/:id', async (req, reply) => {
    authorize(req, deps, 'identity:delete_region');
    const row = await load(req.params.id);
    await deps.store.write(async (tx) => {
      const all = await tx.selectFrom('region').selectAll().execute();
      const doomed = [row.id, ...descendants(all, row.id)];
      const endpoint = await tx.selectFrom('endpoint').select('id').where('region_id', 'in', doomed).executeTakeFirst();
      if (endpoint) {
        throw new HttpError(403, `Unable to delete region ${row.id} because it or its child regions have associated endpoints.`);
      }
      await tx.deleteFrom('region').where('id', 'in', doomed).execute();
    });
    reply.status(204).send();
  });
}
