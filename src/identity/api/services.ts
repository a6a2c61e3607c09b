// /v3/services. A service's name, description and any other attribute a client sends live in
// its `extra` JSON (as Keystone keeps them); deleting a service deletes its endpoints, and a
// disabled service drops out of the catalog with all its endpoints.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { dbBool, fromDbBool } from '../../core/db/index.ts';
import { badRequest, notFound } from '../../core/http/index.ts';
import type { ServiceTable } from '../db/schema.ts';
import { authorize, bodyObject, collection, extraOf, field, newId, parseJson, queryBool, selfLink, type IdentityDeps } from './common.ts';

/** Attributes with a column of their own; everything else (name included) goes to extra. */
const COLUMNS = ['id', 'type', 'enabled'];

export function serviceView(req: FastifyRequest, deps: IdentityDeps, s: ServiceTable) {
  const extra = parseJson(s.extra);
  return {
    ...extra,
    id: s.id,
    type: s.type,
    name: typeof extra.name === 'string' ? extra.name : '',
    enabled: fromDbBool(s.enabled),
    links: selfLink(req, deps, `services/${s.id}`),
  };
}

/** Checks the attributes a create or update may carry. */
function checkFields(body: Record<string, unknown>, required: boolean) {
  const type = field<string>(body, 'type', 'string', { required, minLength: 1, maxLength: 255 });
  const enabled = field<boolean>(body, 'enabled', 'boolean');
  field<string>(body, 'name', 'string', { minLength: 1, maxLength: 255 });
  field<string | null>(body, 'description', 'nullable-string');
  return { type, enabled };
}

export function registerServices(app: FastifyInstance, deps: IdentityDeps): void {
  const db = () => deps.store.db;
  const get = (id: string) => db().selectFrom('service').selectAll().where('id', '=', id).executeTakeFirst();
  const load = async (id: string) => {
    const row = await get(id);
    if (!row) throw notFound(`Could not find service: ${id}.`);
    return row;
  };

  app.get('/v3/services', async (req) => {
    authorize(req, deps, 'identity:list_services');
    const q = req.query as Record<string, string | undefined>;
    let query = db().selectFrom('service').selectAll();
    if (q.type !== undefined) query = query.where('type', '=', q.type);
    const enabled = queryBool(q.enabled);
    if (enabled !== undefined) query = query.where('enabled', '=', dbBool(enabled));
    let views = (await query.orderBy('type').orderBy('id').execute()).map((s) => serviceView(req, deps, s));
    if (q.name !== undefined) views = views.filter((s) => s.name === q.name);
    return collection(req, deps, 'services', views);
  });

  app.get<{ Params: { id: string } }>('/v3/services/:id', async (req) => {
    authorize(req, deps, 'identity:get_service');
    return { service: serviceView(req, deps, await load(req.params.id)) };
  });

  app.post('/v3/services', async (req, reply) => {
    authorize(req, deps, 'identity:create_service');
    const body = bodyObject(req.body, 'service');
    const { type, enabled } = checkFields(body, true);
    const extra = JSON.parse(extraOf(body, COLUMNS)) as Record<string, unknown>;
    extra.name ??= '';
    const row: ServiceTable = { id: newId(), type: type!, enabled: dbBool(enabled ?? true), extra: JSON.stringify(extra) };
    await deps.store.write((tx) => tx.insertInto('service').values(row).execute());
    reply.status(201);
    return { service: serviceView(req, deps, (await get(row.id))!) };
  });

  app.patch<{ Params: { id: string } }>('/v3/services/:id', async (req) => {
    authorize(req, deps, 'identity:update_service');
    const body = bodyObject(req.body, 'service');
    if (Object.keys(body).length === 0) throw badRequest("Invalid input for field 'service': it must name at least one attribute.");
    const row = await load(req.params.id);
    if (body.id !== undefined && body.id !== row.id) throw badRequest('Cannot change the ID of a service.');
    const { type, enabled } = checkFields(body, false);
    const extra = { ...parseJson(row.extra), ...JSON.parse(extraOf(body, COLUMNS)) };
    await deps.store.write((tx) => tx.updateTable('service').set({
      type: type ?? row.type,
      enabled: enabled === undefined ? row.enabled : dbBool(enabled),
      extra: JSON.stringify(extra),
    }).where('id', '=', row.id).execute());
    return { service: serviceView(req, deps, (await get(row.id))!) };
  });

  app.delete<{ Params: { id: string } }>('/v3/services/:id', async (req, reply) => {
    authorize(req, deps, 'identity:delete_service');
    const row = await load(req.params.id);
    await deps.store.write(async (tx) => {
      // explicit: SQLite only cascades with foreign keys switched on
      await tx.deleteFrom('endpoint').where('service_id', '=', row.id).execute();
      await tx.deleteFrom('service').where('id', '=', row.id).execute();
    });
    reply.status(204).send();
  });
}
