// The hierarchy views of GET /v3/projects/{id}: parents_as_ids / subtree_as_ids (nested
// dictionaries of ids, up to the domain and down to the leaves) and parents_as_list /
// subtree_as_list (the projects themselves, only those the caller has a role on).
import type { FastifyRequest } from 'fastify';
import { badRequest } from '../../core/http/index.ts';
import type { ProjectTable } from '../db/schema.ts';
import { projectAncestors } from '../assignment/effective-roles.ts';
import { contextOf, type IdentityDeps } from './common.ts';
import { projectView } from './views.ts';

type IdTree = { [id: string]: IdTree | null };

async function descendants(deps: IdentityDeps, rootId: string): Promise<ProjectTable[]> {
  const all = await deps.store.db.selectFrom('project').selectAll().where('is_domain', '=', 0).execute();
  const found: ProjectTable[] = [];
  let frontier = [rootId];
  while (frontier.length) {
    const next = all.filter((p) => p.parent_id !== null && frontier.includes(p.parent_id) && !found.includes(p));
    found.push(...next);
    frontier = next.map((p) => p.id);
  }
  return found;
}

function subtreeIds(rootId: string, rows: ProjectTable[]): IdTree | null {
  const children = rows.filter((p) => p.parent_id === rootId);
  if (!children.length) return null;
  return Object.fromEntries(children.map((c) => [c.id, subtreeIds(c.id, rows)]));
}

async function visibleTo(req: FastifyRequest, deps: IdentityDeps, rows: ProjectTable[]): Promise<ProjectTable[]> {
  const ctx = contextOf(req);
  const kept: ProjectTable[] = [];
  for (const p of rows) if ((await deps.tokens.rolesOn(ctx.userId, { projectId: p.id })).length) kept.push(p);
  return kept;
}

/** Adds the requested hierarchy views to a project document. */
export async function addHierarchy(req: FastifyRequest, deps: IdentityDeps, row: ProjectTable, doc: Record<string, unknown>): Promise<void> {
  const q = req.query as Record<string, unknown>;
  const has = (k: string) => q[k] !== undefined;
  if (has('parents_as_ids') && has('parents_as_list')) throw badRequest('Cannot use parents_as_list and parents_as_ids query params at the same time.');
  if (has('subtree_as_ids') && has('subtree_as_list')) throw badRequest('Cannot use subtree_as_list and subtree_as_ids query params at the same time.');
  const tags = await deps.store.db.selectFrom('project_tag').selectAll().execute();

  if (has('parents_as_ids') || has('parents_as_list')) {
    const ids = await projectAncestors(deps.store.db, row.id); // nearest first, the domain last
    if (has('parents_as_ids')) {
      let tree: IdTree | null = null;
      for (const id of [...ids].reverse()) tree = { [id]: tree };
      doc.parents = tree;
    } else {
      const rows = await deps.store.db.selectFrom('project').selectAll().where('id', 'in', ids.length ? ids : ['']).where('is_domain', '=', 0).execute();
      const ordered = ids.map((id) => rows.find((r) => r.id === id)).filter((r): r is ProjectTable => Boolean(r));
      doc.parents = (await visibleTo(req, deps, ordered)).map((p) => ({ project: projectView(req, deps, p, tags) }));
    }
  }
  if (has('subtree_as_ids') || has('subtree_as_list')) {
    const rows = await descendants(deps, row.id);
    doc.subtree = has('subtree_as_ids')
      ? subtreeIds(row.id, rows)
      : (await visibleTo(req, deps, rows)).map((p) => ({ project: projectView(req, deps, p, tags) }));
  }
}
