// Response shapes of projects and domains (Keystone stores both in one table).
import type { FastifyRequest } from 'fastify';
import { fromDbBool } from '../../core/db/index.ts';
import type { ProjectTable, ProjectTagTable } from '../db/schema.ts';
import { parseJson, selfLink, type IdentityDeps } from './common.ts';

const tagsOf = (id: string, tags: ProjectTagTable[]) => tags.filter((t) => t.project_id === id).map((t) => t.name).sort();

export function projectView(req: FastifyRequest, deps: IdentityDeps, p: ProjectTable, tags: ProjectTagTable[]) {
  const isDomain = fromDbBool(p.is_domain);
  return {
    ...parseJson(p.extra),
    id: p.id,
    name: p.name,
    domain_id: isDomain ? null : p.domain_id,
    description: p.description ?? '',
    enabled: fromDbBool(p.enabled),
    parent_id: p.parent_id,
    is_domain: isDomain,
    tags: tagsOf(p.id, tags),
    options: {},
    links: selfLink(req, deps, `projects/${p.id}`),
  };
}

export function domainView(req: FastifyRequest, deps: IdentityDeps, d: ProjectTable, tags: ProjectTagTable[]) {
  return {
    ...parseJson(d.extra),
    id: d.id,
    name: d.name,
    description: d.description ?? '',
    enabled: fromDbBool(d.enabled),
    tags: tagsOf(d.id, tags),
    options: {},
    links: selfLink(req, deps, `domains/${d.id}`),
  };
}
