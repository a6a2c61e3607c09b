// Response shapes of users and groups. A user's view never carries its password or hash:
// the view is built from named columns, and attributes a client sent are kept in `extra`
// (passwords never are; see users.ts).
import type { FastifyRequest } from 'fastify';
import { fromDbBool } from '../../core/db/index.ts';
import type { GroupTable, UserTable } from '../db/schema.ts';
import { formatTime } from '../time.ts';
import { parseJson, selfLink, type IdentityDeps } from './common.ts';

export function userView(req: FastifyRequest, deps: IdentityDeps, u: UserTable) {
  const view: Record<string, unknown> = {
    ...parseJson(u.extra),
    id: u.id,
    name: u.name,
    domain_id: u.domain_id,
    enabled: fromDbBool(u.enabled),
    password_expires_at: u.password_expires_at ? formatTime(u.password_expires_at) : null,
    options: parseJson(u.options),
    links: selfLink(req, deps, `users/${u.id}`),
  };
  // As Keystone: these two appear only when the user has them.
  if (u.default_project_id) view.default_project_id = u.default_project_id;
  if (u.description !== null) view.description = u.description;
  return view;
}

export function groupView(req: FastifyRequest, deps: IdentityDeps, g: GroupTable) {
  return {
    ...parseJson(g.extra),
    id: g.id,
    name: g.name,
    domain_id: g.domain_id,
    description: g.description ?? '',
    links: selfLink(req, deps, `groups/${g.id}`),
  };
}
