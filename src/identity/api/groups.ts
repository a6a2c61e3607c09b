// /v3/groups and group membership. A user's roles include its groups' roles, so whatever can
// shrink them (leaving a group, the group deleted) revokes that user's tokens.
import type { FastifyInstance } from 'fastify';
import { badRequest, notFound } from '../../core/http/index.ts';
import type { GroupTable, UserTable } from '../db/schema.ts';
import { getDomainRow, getGroupRow } from '../db/lookups.ts';
import {
  authorize, bodyObject, collection, contextOf, extraOf, field, newId, parseJson, uniquely, type IdentityDeps,
} from './common.ts';
import { groupView, userView } from './user-views.ts';
import { checkName, listDomain, listGroups, listUsers, loadUser } from './users.ts';

const KNOWN = ['id', 'name', 'domain_id', 'description'];

export function registerGroups(app: FastifyInstance, deps: IdentityDeps): void {
  const db = () => deps.store.db;
  const loadGroup = async (id: string) => {
    const row = await getGroupRow(db(), id);
    if (!row) throw notFound(`Could not find group: ${id}.`);
    return row;
  };
  const groupTarget = (g: GroupTable) => ({ group: { id: g.id, domain_id: g.domain_id } });
  const userTarget = (u: UserTable) => ({ user: { id: u.id, domain_id: u.domain_id } });
  const isMember = async (userId: string, groupId: string) =>
    Boolean(await db().selectFrom('user_group_membership').select('user_id')
      .where('user_id', '=', userId).where('group_id', '=', groupId).executeTakeFirst());

  app.get('/v3/groups', async (req) => {
    const q = req.query as Record<string, string | undefined>;
    const domainId = listDomain(contextOf(req), q.domain_id);
    authorize(req, deps, 'identity:list_groups', { target: { domain_id: domainId } });
    const rows = await listGroups(deps, { domainId, name: q.name });
    return collection(req, deps, 'groups', rows.map((g) => groupView(req, deps, g)));
  });

  app.get<{ Params: { id: string } }>('/v3/groups/:id', async (req) => {
    const row = await loadGroup(req.params.id);
    authorize(req, deps, 'identity:get_group', { target: groupTarget(row) });
    return { group: groupView(req, deps, row) };
  });

  app.post('/v3/groups', async (req, reply) => {
    const ctx = contextOf(req);
    const body = bodyObject(req.body, 'group');
    const name = checkName(field<string>(body, 'name', 'string', { required: true, maxLength: 64 }))!;
    const description = field<string | null>(body, 'description', 'nullable-string') ?? null;
    // As Keystone: without a domain, the group goes in the caller's own domain.
    const domainId = field<string | null>(body, 'domain_id', 'nullable-string')
      ?? ctx.domainId ?? ctx.projectDomainId ?? ctx.userDomainId;
    authorize(req, deps, 'identity:create_group', { target: { group: { domain_id: domainId } } });
    if (!(await getDomainRow(db(), domainId))) throw notFound(`Could not find domain: ${domainId}.`);
    const row: GroupTable = { id: newId(), domain_id: domainId, name, description, extra: extraOf(body, KNOWN) };
    await uniquely(`group ${name}`, () => deps.store.write((tx) => tx.insertInto('user_group').values(row).execute()));
    reply.status(201);
    return { group: groupView(req, deps, (await getGroupRow(db(), row.id))!) };
  });

  app.patch<{ Params: { id: string } }>('/v3/groups/:id', async (req) => {
    const row = await loadGroup(req.params.id);
    authorize(req, deps, 'identity:update_group', { target: groupTarget(row) });
    const body = bodyObject(req.body, 'group');
    if (body.id !== undefined && body.id !== row.id) throw badRequest('Cannot change the ID of a group.');
    if (body.domain_id !== undefined && body.domain_id !== row.domain_id) throw badRequest('Cannot change the domain ID of a group.');
    const name = checkName(field<string>(body, 'name', 'string', { minLength: 1, maxLength: 64 }));
    const description = field<string | null>(body, 'description', 'nullable-string');
    await uniquely(`group ${name ?? row.name}`, () =>
      deps.store.write((tx) =>
        tx.updateTable('user_group').set({
          name: name ?? row.name,
          description: description === undefined ? row.description : description,
          extra: JSON.stringify({ ...parseJson(row.extra), ...JSON.parse(extraOf(body, KNOWN)) }),
        }).where('id', '=', row.id).execute()),
    );
    return { group: groupView(req, deps, (await getGroupRow(db(), row.id))!) };
  });

  app.delete<{ Params: { id: string } }>('/v3/groups/:id', async (req, reply) => {
    const row = await loadGroup(req.params.id);
    authorize(req, deps, 'identity:delete_group', { target: groupTarget(row) });
    await deps.store.write(async (tx) => {
      const members = await tx.selectFrom('user_group_membership').select('user_id').where('group_id', '=', row.id).execute();
      await tx.deleteFrom('user_group_membership').where('group_id', '=', row.id).execute();
      const granted = await tx.deleteFrom('assignment').where('actor_id', '=', row.id)
        .where('type', 'in', ['GroupProject', 'GroupDomain', 'GroupSystem']).executeTakeFirst();
      await tx.deleteFrom('user_group').where('id', '=', row.id).execute();
      // Members' tokens carry roles this group gave them; a group that gave none voids nothing.
      if (Number(granted.numDeletedRows) > 0) {
        for (const m of members) await deps.tokens.revokeMatching(tx, { user_id: m.user_id });
      }
    });
    reply.status(204).send();
  });

  // membership
  app.get<{ Params: { id: string } }>('/v3/groups/:id/users', async (req) => {
    const group = await loadGroup(req.params.id);
    authorize(req, deps, 'identity:list_users_in_group', { target: groupTarget(group) });
    const q = req.query as Record<string, string | undefined>;
    const rows = await listUsers(deps, { domainId: q.domain_id, name: q.name, enabled: q.enabled }, group.id);
    return collection(req, deps, 'users', rows.map((u) => userView(req, deps, u)));
  });

  app.put<{ Params: { id: string; userId: string } }>('/v3/groups/:id/users/:userId', async (req, reply) => {
    const group = await loadGroup(req.params.id);
    const user = await loadUser(deps, req.params.userId);
    authorize(req, deps, 'identity:add_user_to_group', { target: { ...groupTarget(group), ...userTarget(user) } });
    if (!(await isMember(user.id, group.id))) {
      try {
        await deps.store.write((tx) => tx.insertInto('user_group_membership').values({ user_id: user.id, group_id: group.id }).execute());
      } catch (err) {
        // a concurrent add of the same membership: it is there either way
        if (!(await isMember(user.id, group.id))) throw err;
      }
    }
    reply.status(204).send();
  });

  // GET answers HEAD too (Fastify adds the HEAD route), both 204 when the user is a member.
  app.get<{ Params: { id: string; userId: string } }>('/v3/groups/:id/users/:userId', async (req, reply) => {
    const group = await loadGroup(req.params.id);
    const user = await loadUser(deps, req.params.userId);
    authorize(req, deps, 'identity:check_user_in_group', { target: { ...groupTarget(group), ...userTarget(user) } });
    if (!(await isMember(user.id, group.id))) throw notFound(`User '${user.id}' not found in group ${group.id}.`);
    reply.status(204).send();
  });

  app.delete<{ Params: { id: string; userId: string } }>('/v3/groups/:id/users/:userId', async (req, reply) => {
    const group = await loadGroup(req.params.id);
    const user = await loadUser(deps, req.params.userId);
    authorize(req, deps, 'identity:remove_user_from_group', { target: { ...groupTarget(group), ...userTarget(user) } });
    const removed = await deps.store.write(async (tx) => {
      const result = await tx.deleteFrom('user_group_membership')
        .where('user_id', '=', user.id).where('group_id', '=', group.id).executeTakeFirst();
      if (Number(result.numDeletedRows) === 0) return false;
      // The user's tokens may carry roles that came through this group.
      const granted = await tx.selectFrom('assignment').select('role_id').where('actor_id', '=', group.id).executeTakeFirst();
      if (granted) await deps.tokens.revokeMatching(tx, { user_id: user.id });
      return true;
    });
    if (!removed) throw notFound(`User '${user.id}' not found in group ${group.id}.`);
    reply.status(204).send();
  });
}
