// /v3/users: users, their password change, and the projects and groups they belong to.
// Passwords are stored only as hashes (password.ts) and never shown. Whatever can make a
// user's existing tokens wrong revokes them: a new password, disabling, deleting. What groups.ts
// shares with this file (name check, user lookup, the user and group lists) lives here.
import type { FastifyInstance } from 'fastify';
import { dbBool, fromDbBool, nowIso } from '../../core/db/index.ts';
import { HttpError, badRequest, notFound, unauthorized } from '../../core/http/index.ts';
import type { RequestContext } from '../../core/auth/index.ts';
import type { GroupTable, UserTable } from '../db/schema.ts';
import { getDomainRow, getUserRow } from '../db/lookups.ts';
import type { IdentityTx } from '../db/store.ts';
import { assignedRoleIds } from '../assignment/effective-roles.ts';
import { deleteCredentialsOf } from '../credential/records.ts';
import { hashPassword, verifyPassword } from '../password.ts';
import {
  authorize, bodyObject, collection, contextOf, extraOf, field, newId, parseJson, queryBool, uniquely, type IdentityDeps,
} from './common.ts';
import { groupView, userView } from './user-views.ts';
import { projectView } from './views.ts';

/** Attributes with columns of their own (or never stored); the rest of a body goes to `extra`. */
const KNOWN = [
  'id', 'name', 'domain_id', 'enabled', 'password', 'original_password', 'default_project_id', 'description',
  'options', 'password_expires_at',
];
/** Keystone's default [identity] max_password_length. */
const MAX_PASSWORD = 4096;

/** The user options Keystone knows, with the type each takes. */
const OPTION_KINDS: Record<string, 'boolean' | 'rules'> = {
  ignore_change_password_upon_first_use: 'boolean',
  ignore_password_expiry: 'boolean',
  ignore_lockout_failure_attempts: 'boolean',
  ignore_user_inactivity: 'boolean',
  lock_password: 'boolean',
  multi_factor_auth_enabled: 'boolean',
  multi_factor_auth_rules: 'rules',
};

/** `options` merged onto `current`: known names only, a null value removes the option. */
export function mergeUserOptions(current: Record<string, unknown>, given: Record<string, unknown>): Record<string, unknown> {
  const merged = { ...current };
  for (const [name, value] of Object.entries(given)) {
    const kind = OPTION_KINDS[name];
    if (!kind) throw badRequest(`Invalid input for field 'options': '${name}' is not a valid user option.`);
    if (value === null) {
      delete merged[name];
      continue;
    }
    const ok = kind === 'boolean'
      ? typeof value === 'boolean'
      : Array.isArray(value) && value.every((rule) => Array.isArray(rule) && rule.every((m) => typeof m === 'string'));
    if (!ok) throw badRequest(`Invalid input for field 'options.${name}': ${JSON.stringify(value)} is not valid.`);
    merged[name] = value;
  }
  return merged;
}

/** A user or group name as Keystone accepts it: not only white space (`field` checks the length). */
export function checkName(name: string | undefined): string | undefined {
  if (name !== undefined && name.trim() === '') throw badRequest(`Invalid input for field 'name': '${name}' is not a valid name.`);
  return name;
}

/** The password a body sets: a string (hashed later), null (no password), or undefined (unchanged). */
function passwordOf(body: Record<string, unknown>): string | null | undefined {
  return field<string | null>(body, 'password', 'nullable-string', { maxLength: MAX_PASSWORD });
}

/**
 * The domain a list is confined to: the one asked for, else the caller's domain when its token
 * is domain-scoped (as Keystone does for domain administrators and readers).
 */
export function listDomain(ctx: RequestContext, requested: string | undefined): string | undefined {
  return requested ?? ctx.domainId;
}

/** The user with this id, or Keystone's 404. */
export async function loadUser(deps: IdentityDeps, id: string): Promise<UserTable> {
  const row = await getUserRow(deps.store.db, id);
  if (!row) throw notFound(`Could not find user: ${id}.`);
  return row;
}

/** The users a list asks for (by domain, name, enabled), in Keystone's order; given a group, only its members. */
export function listUsers(deps: IdentityDeps, q: { domainId?: string; name?: string; enabled?: string }, groupId?: string): Promise<UserTable[]> {
  let query = deps.store.db.selectFrom('user').selectAll();
  if (groupId !== undefined) {
    query = query.where('id', 'in', (eb) => eb.selectFrom('user_group_membership').select('user_id').where('group_id', '=', groupId));
  }
  if (q.domainId !== undefined) query = query.where('domain_id', '=', q.domainId);
  if (q.name !== undefined) query = query.where('name', '=', q.name);
  const enabled = queryBool(q.enabled);
  if (enabled !== undefined) query = query.where('enabled', '=', dbBool(enabled));
  return query.orderBy('name').orderBy('id').execute();
}

/** The groups a list asks for (by domain, name), in Keystone's order; given a user, only those it belongs to. */
export function listGroups(deps: IdentityDeps, q: { domainId?: string; name?: string }, userId?: string): Promise<GroupTable[]> {
  let query = deps.store.db.selectFrom('user_group').selectAll();
  if (userId !== undefined) {
    query = query.where('id', 'in', (eb) => eb.selectFrom('user_group_membership').select('group_id').where('user_id', '=', userId));
  }
  if (q.domainId !== undefined) query = query.where('domain_id', '=', q.domainId);
  if (q.name !== undefined) query = query.where('name', '=', q.name);
  return query.orderBy('name').orderBy('id').execute();
}

export function registerUsers(app: FastifyInstance, deps: IdentityDeps): void {
  const db = () => deps.store.db;
  const load = (id: string) => loadUser(deps, id);
  const target = (row: { id: string; domain_id: string }) => ({ target: { user: { id: row.id, domain_id: row.domain_id } } });
  const checkDefaultProject = async (id: string | null | undefined) => {
    if (!id) return;
    if (await getDomainRow(db(), id)) throw badRequest(`The default project of a user cannot be a domain: ${id}.`);
  };

  app.get('/v3/users', async (req) => {
    const q = req.query as Record<string, string | undefined>;
    const domainId = listDomain(contextOf(req), q.domain_id);
    authorize(req, deps, 'identity:list_users', { target: { domain_id: domainId } });
    const rows = await listUsers(deps, { domainId, name: q.name, enabled: q.enabled });
    return collection(req, deps, 'users', rows.map((u) => userView(req, deps, u)));
  });

  app.get<{ Params: { id: string } }>('/v3/users/:id', async (req) => {
    const row = await load(req.params.id);
    authorize(req, deps, 'identity:get_user', target(row));
    return { user: userView(req, deps, row) };
  });

  app.post('/v3/users', async (req, reply) => {
    const ctx = contextOf(req);
    const body = bodyObject(req.body, 'user');
    const name = checkName(field<string>(body, 'name', 'string', { required: true, maxLength: 255 }))!;
    const enabled = field<boolean>(body, 'enabled', 'boolean') ?? true;
    const description = field<string | null>(body, 'description', 'nullable-string') ?? null;
    const defaultProjectId = field<string | null>(body, 'default_project_id', 'nullable-string', { maxLength: 64 }) ?? null;
    const password = passwordOf(body);
    const options = mergeUserOptions({}, field<Record<string, unknown>>(body, 'options', 'object') ?? {});
    // As Keystone: without a domain, the user goes in the caller's own domain.
    const domainId = field<string | null>(body, 'domain_id', 'nullable-string')
      ?? ctx.domainId ?? ctx.projectDomainId ?? ctx.userDomainId;
    authorize(req, deps, 'identity:create_user', { target: { user: { domain_id: domainId } } });
    if (!(await getDomainRow(db(), domainId))) throw notFound(`Could not find domain: ${domainId}.`);
    await checkDefaultProject(defaultProjectId);
    const now = nowIso();
    const row: UserTable = {
      id: newId(), domain_id: domainId, name, enabled: dbBool(enabled),
      password_hash: password ? await hashPassword(password, { logN: deps.settings.passwordHashCost }) : null,
      password_created_at: password ? now : null, password_expires_at: null,
      default_project_id: defaultProjectId, description, options: JSON.stringify(options),
      extra: extraOf(body, KNOWN), created_at: now,
    };
    await uniquely(`user ${name}`, () => deps.store.write((tx) => tx.insertInto('user').values(row).execute()));
    reply.status(201);
    return { user: userView(req, deps, (await getUserRow(db(), row.id))!) };
  });

  app.patch<{ Params: { id: string } }>('/v3/users/:id', async (req) => {
    const row = await load(req.params.id);
    authorize(req, deps, 'identity:update_user', target(row));
    const body = bodyObject(req.body, 'user');
    if (body.id !== undefined && body.id !== row.id) throw badRequest('Cannot change the ID of a user.');
    if (body.domain_id !== undefined && body.domain_id !== row.domain_id) throw badRequest('Cannot change the domain ID of a user.');
    const name = checkName(field<string>(body, 'name', 'string', { minLength: 1, maxLength: 255 }));
    const enabled = field<boolean>(body, 'enabled', 'boolean');
    const description = field<string | null>(body, 'description', 'nullable-string');
    const defaultProjectId = field<string | null>(body, 'default_project_id', 'nullable-string', { maxLength: 64 });
    const password = passwordOf(body);
    const givenOptions = field<Record<string, unknown>>(body, 'options', 'object');
    const options = givenOptions ? mergeUserOptions(parseJson(row.options), givenOptions) : undefined;
    await checkDefaultProject(defaultProjectId);
    const hash = password ? await hashPassword(password, { logN: deps.settings.passwordHashCost }) : null;
    await uniquely(`user ${name ?? row.name}`, () =>
      deps.store.write(async (tx) => {
        const extra = { ...parseJson(row.extra), ...JSON.parse(extraOf(body, KNOWN)) };
        await tx.updateTable('user').set({
          name: name ?? row.name,
          enabled: enabled === undefined ? row.enabled : dbBool(enabled),
          description: description === undefined ? row.description : description,
          default_project_id: defaultProjectId === undefined ? row.default_project_id : defaultProjectId,
          options: options ? JSON.stringify(options) : row.options,
          extra: JSON.stringify(extra),
          ...(password === undefined ? {} : { password_hash: hash, password_created_at: hash ? nowIso() : null, password_expires_at: null }),
        }).where('id', '=', row.id).execute();
        // A new password, or a user disabled, voids every token the user holds.
        const disabled = enabled === false && fromDbBool(row.enabled);
        if (password !== undefined || disabled) await deps.tokens.revokeMatching(tx, { user_id: row.id });
      }),
    );
    return { user: userView(req, deps, (await getUserRow(db(), row.id))!) };
  });

  app.delete<{ Params: { id: string } }>('/v3/users/:id', async (req, reply) => {
    const row = await load(req.params.id);
    authorize(req, deps, 'identity:delete_user', target(row));
    await deps.store.write(async (tx) => {
      await deleteUserData(tx, row.id);
      await tx.deleteFrom('user').where('id', '=', row.id).execute();
      await deps.tokens.revokeMatching(tx, { user_id: row.id });
    });
    reply.status(204).send();
  });

  // Self-service password change. As Keystone, the original password is the proof of identity,
  // so a user whose password has expired (and who therefore cannot get a token) can still
  // change it without one; a caller who does send a token must be that user (policy).
  app.post<{ Params: { id: string } }>('/v3/users/:id/password', async (req, reply) => {
    const body = bodyObject(req.body, 'user');
    const password = field<string>(body, 'password', 'string', { required: true, maxLength: MAX_PASSWORD })!;
    const original = field<string>(body, 'original_password', 'string', { required: true, maxLength: MAX_PASSWORD })!;
    const row = await getUserRow(db(), req.params.id);
    if (req.context) authorize(req, deps, 'identity:change_password', target({ id: req.params.id, domain_id: row?.domain_id ?? '' }));
    // An unknown user is checked at the same cost as a wrong password and fails alike.
    const ok = await verifyPassword(original, row?.password_hash);
    if (!row || !ok || !fromDbBool(row.enabled)) {
      throw unauthorized('Error when changing user password: the original password is not correct.');
    }
    if (parseJson(row.options).lock_password === true) {
      throw new HttpError(403, 'You cannot change your password at this time due to password policy disallowing password changes. Please contact your administrator to reset your password.');
    }
    const hash = await hashPassword(password, { logN: deps.settings.passwordHashCost });
    await deps.store.write(async (tx) => {
      await tx.updateTable('user')
        .set({ password_hash: hash, password_created_at: nowIso(), password_expires_at: null })
        .where('id', '=', row.id).execute();
      await deps.tokens.revokeMatching(tx, { user_id: row.id });
    });
    reply.status(204).send();
  });

  app.get<{ Params: { id: string } }>('/v3/users/:id/projects', async (req) => {
    const row = await load(req.params.id);
    authorize(req, deps, 'identity:list_user_projects', target(row));
    const q = req.query as Record<string, string | undefined>;
    let query = db().selectFrom('project').selectAll().where('is_domain', '=', 0);
    if (q.domain_id !== undefined) query = query.where('domain_id', '=', q.domain_id);
    if (q.name !== undefined) query = query.where('name', '=', q.name);
    const enabled = queryBool(q.enabled);
    if (enabled !== undefined) query = query.where('enabled', '=', dbBool(enabled));
    const candidates = await projectsWithPossibleRoles(row.id, await query.orderBy('name').execute());
    const kept = [];
    for (const p of candidates) {
      if ((await assignedRoleIds(db(), row.id, { projectId: p.id })).size > 0) kept.push(p);
    }
    const tags = await db().selectFrom('project_tag').selectAll().execute();
    return collection(req, deps, 'projects', kept.map((p) => projectView(req, deps, p, tags)));
  });

  /**
   * Narrows the projects worth checking one by one: none when the user (and its groups) hold
   * no assignment; only directly assigned projects when none of its assignments is inherited.
   */
  async function projectsWithPossibleRoles<P extends { id: string }>(userId: string, projects: P[]): Promise<P[]> {
    const groups = await db().selectFrom('user_group_membership').select('group_id').where('user_id', '=', userId).execute();
    const actors = [userId, ...groups.map((g) => g.group_id)];
    const rows = await db().selectFrom('assignment').select(['type', 'target_id', 'inherited'])
      .where('actor_id', 'in', actors).where('type', 'in', ['UserProject', 'GroupProject', 'UserDomain', 'GroupDomain']).execute();
    if (rows.some((r) => fromDbBool(r.inherited))) return projects;
    const direct = new Set(rows.filter((r) => r.type === 'UserProject' || r.type === 'GroupProject').map((r) => r.target_id));
    return projects.filter((p) => direct.has(p.id));
  }

  app.get<{ Params: { id: string } }>('/v3/users/:id/groups', async (req) => {
    const row = await load(req.params.id);
    authorize(req, deps, 'identity:list_groups_for_user', target(row));
    const q = req.query as Record<string, string | undefined>;
    const rows = await listGroups(deps, { domainId: q.domain_id, name: q.name }, row.id);
    // memberships here never expire (Keystone sets this only for federated users' groups)
    return collection(req, deps, 'groups', rows.map((g) => ({ ...groupView(req, deps, g), membership_expires_at: null })));
  });
}

/** What goes with a user: group memberships, role assignments, application credentials, credentials. */
export async function deleteUserData(tx: IdentityTx, userId: string): Promise<void> {
  await deleteCredentialsOf(tx, { userId });
  await tx.deleteFrom('user_group_membership').where('user_id', '=', userId).execute();
  await tx.deleteFrom('assignment').where('actor_id', '=', userId).where('type', 'in', ['UserProject', 'UserDomain', 'UserSystem']).execute();
  const creds = await tx.selectFrom('application_credential').select('id').where('user_id', '=', userId).execute();
  if (creds.length) {
    const ids = creds.map((c) => c.id);
    await tx.deleteFrom('application_credential_role').where('application_credential_id', 'in', ids).execute();
    await tx.deleteFrom('application_credential').where('id', 'in', ids).execute();
  }
}
