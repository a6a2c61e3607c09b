// /v3/projects and project tags. Projects form a tree under their domain (parent_id); a
// project with children cannot be deleted; disabling or deleting one revokes its tokens.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { dbBool, fromDbBool } from '../../core/db/index.ts';
import { HttpError, badRequest, notFound } from '../../core/http/index.ts';
import { ROOT_DOMAIN_ID, type ProjectTable } from '../db/schema.ts';
import { getDomainRow, getProjectRow } from '../db/lookups.ts';
import { authorize, baseUrl, bodyObject, collection, contextOf, extraOf, field, newId, queryBool, uniquely, type IdentityDeps } from './common.ts';
import { projectView } from './views.ts';
import { deleteDomain, deleteProjectData, replaceProjectTags, updateProjectRow } from './project-data.ts';
import { addHierarchy } from './project-hierarchy.ts';

const KNOWN = ['id', 'name', 'description', 'enabled', 'tags', 'options', 'domain_id', 'parent_id', 'is_domain'];
const MAX_TAGS = 80;

function checkTags(value: unknown): string[] {
  if (!Array.isArray(value)) throw badRequest("Invalid input for field 'tags': expected a list of strings.");
  if (value.length > MAX_TAGS) throw badRequest(`Invalid input for field 'tags': at most ${MAX_TAGS} tags are allowed.`);
  for (const t of value) {
    if (typeof t !== 'string' || t.length === 0 || t.length > 255 || /[,/]/.test(t)) {
      throw badRequest(`Invalid input for field 'tags': ${JSON.stringify(t)} is not a valid tag (1-255 characters, no ',' or '/').`);
    }
  }
  return [...new Set(value as string[])];
}

export function registerProjects(app: FastifyInstance, deps: IdentityDeps): void {
  const db = () => deps.store.db;
  const tagsOf = (id?: string) => {
    const q = db().selectFrom('project_tag').selectAll();
    return (id ? q.where('project_id', '=', id) : q).execute();
  };
  // A domain is a project acting as a domain: the projects API reaches it too.
  const load = async (id: string) => {
    const row = (await getProjectRow(db(), id)) ?? (await getDomainRow(db(), id));
    if (!row) throw notFound(`Could not find project: ${id}.`);
    return row;
  };
  const view = async (req: FastifyRequest, row: ProjectTable) => ({ project: projectView(req, deps, row, await tagsOf(row.id)) });
  const target = (row: ProjectTable) => ({ target: { project: { id: row.id, domain_id: row.domain_id } } });

  app.get('/v3/projects', async (req) => {
    const q = req.query as Record<string, string | undefined>;
    authorize(req, deps, 'identity:list_projects', { target: { domain_id: q.domain_id } });
    const isDomain = queryBool(q.is_domain) ?? false;
    let query = db().selectFrom('project').selectAll().where('is_domain', '=', dbBool(isDomain));
    if (q.domain_id !== undefined) query = query.where('domain_id', '=', q.domain_id);
    if (q.name !== undefined) query = query.where('name', '=', q.name);
    if (q.parent_id !== undefined) query = query.where('parent_id', '=', q.parent_id);
    const enabled = queryBool(q.enabled);
    if (enabled !== undefined) query = query.where('enabled', '=', dbBool(enabled));
    const rows = await query.orderBy('name').execute();
    const allTags = await tagsOf();
    const tagSet = (id: string) => new Set(allTags.filter((t) => t.project_id === id).map((t) => t.name));
    const split = (v?: string) => (v ? v.split(',') : undefined);
    const [all, any, notAll, notAny] = [split(q.tags), split(q['tags-any']), split(q['not-tags']), split(q['not-tags-any'])];
    const kept = rows.filter((p) => {
      const has = tagSet(p.id);
      if (all && !all.every((t) => has.has(t))) return false;
      if (any && !any.some((t) => has.has(t))) return false;
      if (notAll && notAll.every((t) => has.has(t))) return false;
      if (notAny && notAny.some((t) => has.has(t))) return false;
      return true;
    });
    return collection(req, deps, 'projects', kept.map((p) => projectView(req, deps, p, allTags)));
  });

  app.get<{ Params: { id: string } }>('/v3/projects/:id', async (req) => {
    const row = await load(req.params.id);
    authorize(req, deps, 'identity:get_project', target(row));
    const result = await view(req, row);
    await addHierarchy(req, deps, row, result.project);
    return result;
  });

  app.post('/v3/projects', async (req, reply) => {
    const ctx = contextOf(req);
    const body = bodyObject(req.body, 'project');
    const name = field<string>(body, 'name', 'string', { required: true, maxLength: 64 })!;
    const description = field<string | null>(body, 'description', 'nullable-string');
    const enabled = field<boolean>(body, 'enabled', 'boolean') ?? true;
    const isDomain = field<boolean>(body, 'is_domain', 'boolean') ?? false;
    const tags = body.tags === undefined ? [] : checkTags(body.tags);
    let domainId = field<string | null>(body, 'domain_id', 'nullable-string') ?? undefined;
    let parentId = field<string | null>(body, 'parent_id', 'nullable-string') ?? undefined;
    if (isDomain) {
      if (parentId) throw badRequest('A project acting as a domain cannot have a parent.');
    } else {
      if (parentId) {
        const parent = (await getProjectRow(db(), parentId)) ?? (await getDomainRow(db(), parentId));
        if (!parent) throw notFound(`Could not find project: ${parentId}.`);
        const parentDomain = parent.is_domain ? parent.id : parent.domain_id;
        if (domainId && domainId !== parentDomain) throw badRequest('The project and its parent must be in the same domain.');
        domainId = parentDomain;
      }
      // As Keystone: without a domain, the project goes in the caller's own domain.
      domainId = domainId ?? ctx.domainId ?? ctx.projectDomainId ?? ctx.userDomainId;
      const domain = await getDomainRow(db(), domainId);
      if (!domain) throw notFound(`Could not find domain: ${domainId}.`);
      parentId = parentId ?? domainId;
    }
    const row: ProjectTable = {
      id: newId(), name, domain_id: isDomain ? ROOT_DOMAIN_ID : domainId!, parent_id: isDomain ? null : parentId!,
      is_domain: dbBool(isDomain), enabled: dbBool(enabled), description: description ?? null, extra: extraOf(body, KNOWN),
    };
    authorize(req, deps, 'identity:create_project', { target: { project: { domain_id: row.domain_id, parent_id: row.parent_id } } });
    await uniquely(`project ${name}`, () =>
      deps.store.write(async (tx) => {
        await tx.insertInto('project').values(row).execute();
        for (const t of tags) await tx.insertInto('project_tag').values({ project_id: row.id, name: t }).execute();
      }),
    );
    reply.status(201);
    const created = (await db().selectFrom('project').selectAll().where('id', '=', row.id).executeTakeFirst())!;
    return { project: projectView(req, deps, created, await tagsOf(row.id)) };
  });

  app.patch<{ Params: { id: string } }>('/v3/projects/:id', async (req) => {
    const row = await load(req.params.id);
    authorize(req, deps, 'identity:update_project', target(row));
    const body = bodyObject(req.body, 'project');
    if (body.id !== undefined && body.id !== row.id) throw badRequest('Cannot change the ID of a project.');
    if (body.domain_id !== undefined && body.domain_id !== row.domain_id) throw badRequest('Cannot change the domain ID of a project.');
    if (body.parent_id !== undefined && body.parent_id !== row.parent_id) throw new HttpError(403, 'Update of `parent_id` is not allowed.');
    if (body.is_domain !== undefined && body.is_domain !== false) throw badRequest('Cannot change is_domain of a project.');
    const name = field<string>(body, 'name', 'string', { maxLength: 64, minLength: 1 });
    const description = field<string | null>(body, 'description', 'nullable-string');
    const enabled = field<boolean>(body, 'enabled', 'boolean');
    const tags = body.tags === undefined ? undefined : checkTags(body.tags);
    await updateProjectRow(deps, 'project', row, { name, description, enabled, tags, extra: extraOf(body, KNOWN) });
    return view(req, await load(row.id));
  });

  app.delete<{ Params: { id: string } }>('/v3/projects/:id', async (req, reply) => {
    const row = await load(req.params.id);
    authorize(req, deps, 'identity:delete_project', target(row));
    if (fromDbBool(row.is_domain)) {
      await deleteDomain(deps, row);
      return reply.status(204).send();
    }
    const child = await db().selectFrom('project').select('id').where('parent_id', '=', row.id).executeTakeFirst();
    if (child) {
      throw new HttpError(403, `Cannot delete the project ${row.id} since it is not a leaf in the hierarchy. Use the cascade option if you want to delete a whole subtree.`);
    }
    await deps.store.write(async (tx) => {
      await deleteProjectData(tx, row.id);
      await tx.deleteFrom('project').where('id', '=', row.id).execute();
      await deps.tokens.revokeMatching(tx, { project_id: row.id });
    });
    reply.status(204).send();
  });

  // tags
  app.get<{ Params: { id: string } }>('/v3/projects/:id/tags', async (req) => {
    const row = await load(req.params.id);
    authorize(req, deps, 'identity:list_project_tags', target(row));
    return { tags: (await tagsOf(row.id)).map((t) => t.name).sort() };
  });

  app.put<{ Params: { id: string } }>('/v3/projects/:id/tags', async (req) => {
    const row = await load(req.params.id);
    authorize(req, deps, 'identity:update_project_tags', target(row));
    const tags = checkTags((req.body as Record<string, unknown> | undefined)?.tags);
    await deps.store.write((tx) => replaceProjectTags(tx, row.id, tags));
    return { tags: tags.sort() };
  });

  app.delete<{ Params: { id: string } }>('/v3/projects/:id/tags', async (req, reply) => {
    const row = await load(req.params.id);
    authorize(req, deps, 'identity:delete_project_tags', target(row));
    await deps.store.write((tx) => tx.deleteFrom('project_tag').where('project_id', '=', row.id).execute());
    reply.status(204).send();
  });

  app.get<{ Params: { id: string; tag: string } }>('/v3/projects/:id/tags/:tag', async (req, reply) => {
    const row = await load(req.params.id);
    authorize(req, deps, 'identity:get_project_tag', target(row));
    const found = (await tagsOf(row.id)).some((t) => t.name === req.params.tag);
    if (!found) throw notFound(`Could not find project tag: ${req.params.tag}.`);
    reply.status(204).send();
  });

  app.put<{ Params: { id: string; tag: string } }>('/v3/projects/:id/tags/:tag', async (req, reply) => {
    const row = await load(req.params.id);
    authorize(req, deps, 'identity:create_project_tag', target(row));
    const existing = (await tagsOf(row.id)).map((t) => t.name);
    const tags = checkTags([...existing, req.params.tag]);
    if (!existing.includes(req.params.tag)) {
      await deps.store.write((tx) => tx.insertInto('project_tag').values({ project_id: row.id, name: req.params.tag }).execute());
    }
    void tags;
    // Keystone answers an added tag with 201 and no body.
    reply.status(201).header('location', `${baseUrl(req, deps)}/v3/projects/${row.id}/tags/${encodeURIComponent(req.params.tag)}`).send();
  });

  app.delete<{ Params: { id: string; tag: string } }>('/v3/projects/:id/tags/:tag', async (req, reply) => {
    const row = await load(req.params.id);
    authorize(req, deps, 'identity:delete_project_tag', target(row));
    const result = await deps.store.write((tx) =>
      tx.deleteFrom('project_tag').where('project_id', '=', row.id).where('name', '=', req.params.tag).executeTakeFirst());
    if (Number(result.numDeletedRows) === 0) throw notFound(`Could not find project tag: ${req.params.tag}.`);
    reply.status(204).send();
  });
}
