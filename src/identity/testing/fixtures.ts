// Fixtures for the identity API suites, of two kinds by name: make* writes straight to the
// database, for suites that need a user with a given role without depending on the API that
// would make it; create* goes through the API as a client would and returns what it answers.
import assert from 'node:assert/strict';
import { nowIso } from '../../core/db/index.ts';
import { GLOBAL_ROLE_DOMAIN, type AssignmentType } from '../db/schema.ts';
import { hashPassword } from '../password.ts';
import { newId } from '../api/common.ts';
import type { IdentityHarness } from './harness.ts';

let counter = 0;
/** A name not used before in this process (nor, through the pid, by a suite running beside it). */
export const unique = (prefix: string) => `${prefix}-${process.pid}-${++counter}`;

/** The password of fixture users when a test gives none. */
export const USER_PASSWORD = 'fixture-user-pw';

export interface FixtureUser {
  id: string;
  name: string;
  password: string;
  domainId: string;
}

// Straight to the database.

export async function roleId(h: IdentityHarness, name: string): Promise<string> {
  const row = await h.service.deps.store.db.selectFrom('role').select('id').where('name', '=', name).where('domain_id', '=', GLOBAL_ROLE_DOMAIN).executeTakeFirstOrThrow();
  return row.id;
}

export async function makeProject(h: IdentityHarness, name: string, domainId = 'default'): Promise<string> {
  const id = newId();
  await h.service.deps.store.write((tx) => tx.insertInto('project').values({
    id, name, domain_id: domainId, parent_id: domainId, is_domain: 0, enabled: 1, description: null, extra: '{}',
  }).execute());
  return id;
}

export async function makeUser(
  h: IdentityHarness,
  { name = unique('user'), password = USER_PASSWORD, domainId = 'default' }: { name?: string; password?: string; domainId?: string } = {},
): Promise<FixtureUser> {
  const id = newId();
  const hash = await hashPassword(password, { logN: 10 });
  await h.service.deps.store.write((tx) => tx.insertInto('user').values({
    id, domain_id: domainId, name, enabled: 1, password_hash: hash, password_created_at: nowIso(), password_expires_at: null,
    default_project_id: null, description: null, options: '{}', extra: '{}', created_at: nowIso(),
  }).execute());
  return { id, name, password, domainId };
}

export async function makeGroup(h: IdentityHarness, members: { id: string }[] = [], domainId = 'default'): Promise<{ id: string; name: string }> {
  const id = newId();
  const name = unique('group');
  await h.service.deps.store.write(async (tx) => {
    await tx.insertInto('user_group').values({ id, domain_id: domainId, name, description: null, extra: '{}' }).execute();
    for (const m of members) await tx.insertInto('user_group_membership').values({ user_id: m.id, group_id: id }).execute();
  });
  return { id, name };
}

export async function grant(h: IdentityHarness, type: AssignmentType, actorId: string, targetId: string, role: string, inherited = false): Promise<void> {
  const rid = await roleId(h, role);
  await h.service.deps.store.write((tx) => tx.insertInto('assignment').values({
    type, actor_id: actorId, target_id: targetId, role_id: rid, inherited: inherited ? 1 : 0,
  }).execute());
}

// Through the API, as the admin.

/** POST /v3/<kind>s with a fresh name unless `fields` gives one; the created entity. */
async function create(h: IdentityHarness, kind: string, prefix: string, fields: Record<string, unknown>) {
  const res = await h.admin.call('POST', `/v3/${kind}s`, { body: { [kind]: { name: unique(prefix), ...fields } } });
  return res.body[kind];
}

export const createUser = (h: IdentityHarness, fields: Record<string, unknown> = {}) => create(h, 'user', 'user', fields);
export const createGroup = (h: IdentityHarness, fields: Record<string, unknown> = {}) => create(h, 'group', 'grp', fields);
export const createProject = (h: IdentityHarness, fields: Record<string, unknown> = {}) => create(h, 'project', 'proj', fields);
export const createDomain = (h: IdentityHarness, fields: Record<string, unknown> = {}) => create(h, 'domain', 'dom', fields);
export const createRole = (h: IdentityHarness, fields: Record<string, unknown> = {}) => create(h, 'role', 'role', fields);

/** The one global role of that name, as the roles API shows it. */
export async function roleByName(h: IdentityHarness, name: string) {
  const res = await h.admin.call('GET', `/v3/roles?name=${name}`);
  assert.equal(res.body.roles.length, 1);
  return res.body.roles[0];
}

/** A password login by user id, answered as is, so that a test can expect it to be refused. */
export function login(h: IdentityHarness, user: { id: string; password: string }, scope?: Record<string, unknown>) {
  return h.anonymous().send('POST', '/v3/auth/tokens', {
    body: { auth: { identity: { methods: ['password'], password: { user: { id: user.id, password: user.password } } }, ...(scope ? { scope } : {}) } },
  });
}

/**
 * A user made through the users API whose only role is `member` on a fresh project, with a token
 * scoped to it. The role is granted to the user, or, given a group, to that group, which the user joins.
 */
export async function memberUser(h: IdentityHarness, group?: { id: string }) {
  const password = USER_PASSWORD;
  const user = await createUser(h, { password });
  const project = await createProject(h);
  if (group) {
    await grant(h, 'GroupProject', group.id, project.id, 'member');
    await h.admin.call('PUT', `/v3/groups/${group.id}/users/${user.id}`);
  } else {
    await grant(h, 'UserProject', user.id, project.id, 'member');
  }
  const { token } = await h.anonymous().passwordLogin({ username: user.name, password, projectId: project.id });
  return { user, project, password, token };
}

/** A member user whose role comes only through a fresh group. */
export async function memberThroughGroup(h: IdentityHarness) {
  const group = await createGroup(h);
  return { ...(await memberUser(h, group)), group };
}
