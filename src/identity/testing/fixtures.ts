// Test fixtures made straight in the database, for suites that need a user with a given role
// without depending on the users or grants API.
import { nowIso } from '../../core/db/index.ts';
import { GLOBAL_ROLE_DOMAIN, type AssignmentType } from '../db/schema.ts';
import { hashPassword } from '../password.ts';
import { newId } from '../api/common.ts';
import type { IdentityHarness } from './harness.ts';

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

export async function makeUser(h: IdentityHarness, name: string, password: string, domainId = 'default'): Promise<string> {
  const id = newId();
  const hash = await hashPassword(password, { logN: 10 });
  await h.service.deps.store.write((tx) => tx.insertInto('user').values({
    id, domain_id: domainId, name, enabled: 1, password_hash: hash, password_created_at: nowIso(), password_expires_at: null,
    default_project_id: null, description: null, options: '{}', extra: '{}', created_at: nowIso(),
  }).execute());
  return id;
}

export async function grant(h: IdentityHarness, type: AssignmentType, actorId: string, targetId: string, role: string, inherited = false): Promise<void> {
  const rid = await roleId(h, role);
  await h.service.deps.store.write((tx) => tx.insertInto('assignment').values({
    type, actor_id: actorId, target_id: targetId, role_id: rid, inherited: inherited ? 1 : 0,
  }).execute());
}
