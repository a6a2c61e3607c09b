// /v3/domains. A domain must be disabled before it is deleted; deleting it removes what it
// owns (projects, users, groups, its roles) and disabling it revokes its tokens.
import type { FastifyInstance } from 'fastify';
import { dbBool } from '../../core/db/index.ts';
import { HttpError, notFound } from '../../core/http/index.ts';
import { ROOT_DOMAIN_ID } from '../db/schema.ts';
import { getDomainRow } from '../db/lookups.ts';
import { authorize, bodyObject, collection, extraOf, field, newId, queryBool, uniquely, type IdentityDeps } from './common.ts';
import { domainView } from './views.ts';
import { deleteDomain, updateProjectRow } from './project-data.ts';

const KNOWN = ['id', 'name', 'description', 'enabled', 'tags', 'options', 'explicit_domain_id'];

export function registerDomains(app: FastifyInstance, deps: IdentityDeps): void {
  const db = () => deps.store.db;
  const tags = () => db().selectFrom('project_tag').selectAll().execute();
  const load = async (id: string) => {
    const row = await getDomainRow(db(), id);
    if (!row) throw notFound(`Could not find domain: ${id}.`);
    return row;
  };

  app.get('/v3/domains', async (req) => {
    authorize(req, deps, 'identity:list_domains');
    const q = req.query as Record<string, string | undefined>;
    let query = db().selectFrom('project').selectAll().where('is_domain', '=', 1);
    if (q.name !== undefined) query = query.where('name', '=', q.name);
    const enabled = queryBool(q.enabled);
    if (enabled !== undefined) query = query.where('enabled', '=', dbBool(enabled));
    const rows = await query.orderBy('name').execute();
    const allTags = await tags();
    return collection(req, deps, 'domains', rows.map((d) => domainView(req, deps, d, allTags)));
  });

  app.get<{ Params: { id: string } }>('/v3/domains/:id', async (req) => {
    const row = await load(req.params.id);
    authorize(req, deps, 'identity:get_domain', { target: { domain: { id: row.id } } });
    return { domain: domainView(req, deps, row, await tags()) };
  });

  app.post('/v3/domains', async (req, reply) => {
    authorize(req, deps, 'identity:create_domain');
    const body = bodyObject(req.body, 'domain');
    const name = field<string>(body, 'name', 'string', { required: true, maxLength: 64 })!;
    const description = field<string | null>(body, 'description', 'nullable-string');
    const enabled = field<boolean>(body, 'enabled', 'boolean') ?? true;
    const tagList = field<string[]>(body, 'tags', 'array') ?? [];
    const id = field<string>(body, 'explicit_domain_id', 'string', { maxLength: 64 }) ?? newId();
    await uniquely(`domain ${name}`, () =>
      deps.store.write(async (tx) => {
        await tx.insertInto('project').values({
          id, name, domain_id: ROOT_DOMAIN_ID, parent_id: null, is_domain: 1, enabled: dbBool(enabled),
          description: description ?? null, extra: extraOf(body, KNOWN),
        }).execute();
        for (const t of new Set(tagList)) await tx.insertInto('project_tag').values({ project_id: id, name: t }).execute();
      }),
    );
    reply.status(201);
    return { domain: domainView(req, deps, (await getDomainRow(db(), id))!, await tags()) };
  });

  app.patch<{ Params: { id: string } }>('/v3/domains/:id', async (req) => {
    const row = await load(req.params.id);
    authorize(req, deps, 'identity:update_domain', { target: { domain: { id: row.id } } });
    const body = bodyObject(req.body, 'domain');
    if (body.id !== undefined && body.id !== row.id) throw new HttpError(400, 'Cannot change the ID of a domain.');
    const name = field<string>(body, 'name', 'string', { maxLength: 64, minLength: 1 });
    const description = field<string | null>(body, 'description', 'nullable-string');
    const enabled = field<boolean>(body, 'enabled', 'boolean');
    const tagList = field<string[]>(body, 'tags', 'array');
    await updateProjectRow(deps, 'domain', row, { name, description, enabled, tags: tagList, extra: extraOf(body, KNOWN) });
    return { domain: domainView(req, deps, (await getDomainRow(db(), row.id))!, await tags()) };
  });

  app.delete<{ Params: { id: string } }>('/v3/domains/:id', async (req, reply) => {
    const row = await load(req.params.id);
    authorize(req, deps, 'identity:delete_domain', { target: { domain: { id: row.id } } });
    await deleteDomain(deps, row);
    reply.status(204).send();
  });
}
