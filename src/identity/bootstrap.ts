// keystone-manage bootstrap: the default domain, the admin/member/reader roles (admin implies
// member implies reader), the service role, an admin project and user holding admin on it and
// on the system, and the region and identity endpoints. Running it again changes nothing but
// what it is told to (a new password, new endpoint URLs).
import { dbBool, nowIso } from '../core/db/index.ts';
import type { IdentityStore, IdentityTx } from './db/store.ts';
import { GLOBAL_ROLE_DOMAIN, ROOT_DOMAIN_ID, SYSTEM_TARGET } from './db/schema.ts';
import { hashPassword } from './password.ts';
import { newId } from './api/common.ts';

export const DEFAULT_DOMAIN_ID = 'default';

export interface BootstrapOptions {
  adminUsername?: string;
  adminPassword: string;
  adminProjectName?: string;
  region?: string;
  /** identity endpoint URLs; internal and admin default to the public one */
  publicUrl: string;
  internalUrl?: string;
  adminUrl?: string;
  passwordHashCost?: number;
}

export interface BootstrapResult {
  userId: string;
  projectId: string;
  roleIds: Record<string, string>;
}

async function ensureRole(tx: IdentityTx, name: string): Promise<string> {
  const found = await tx.selectFrom('role').select('id').where('name', '=', name).where('domain_id', '=', GLOBAL_ROLE_DOMAIN).executeTakeFirst();
  if (found) return found.id;
  const id = newId();
  await tx.insertInto('role').values({ id, name, domain_id: GLOBAL_ROLE_DOMAIN, description: null, options: '{}', extra: '{}' }).execute();
  return id;
}

async function ensureImplication(tx: IdentityTx, prior: string, implied: string): Promise<void> {
  const found = await tx.selectFrom('implied_role').select('prior_role_id').where('prior_role_id', '=', prior).where('implied_role_id', '=', implied).executeTakeFirst();
  if (!found) await tx.insertInto('implied_role').values({ prior_role_id: prior, implied_role_id: implied }).execute();
}

async function ensureAssignment(tx: IdentityTx, type: 'UserProject' | 'UserSystem', actor: string, target: string, role: string): Promise<void> {
  const found = await tx.selectFrom('assignment').select('role_id')
    .where('type', '=', type).where('actor_id', '=', actor).where('target_id', '=', target).where('role_id', '=', role).where('inherited', '=', 0)
    .executeTakeFirst();
  if (!found) await tx.insertInto('assignment').values({ type, actor_id: actor, target_id: target, role_id: role, inherited: 0 }).execute();
}

export interface ServiceEndpoints {
  type: string;
  name: string;
  region: string;
  /** internal and admin default to the public URL */
  publicUrl: string;
  internalUrl?: string;
  adminUrl?: string;
}

/** The service of `type` in the catalog with public, internal and admin endpoints at these URLs. */
async function ensureEndpoints(tx: IdentityTx, e: ServiceEndpoints): Promise<void> {
  let service = await tx.selectFrom('service').select('id').where('type', '=', e.type).executeTakeFirst();
  if (!service) {
    service = { id: newId() };
    await tx.insertInto('service').values({ id: service.id, type: e.type, enabled: 1, extra: JSON.stringify({ name: e.name }) }).execute();
  }
  const existingRegion = await tx.selectFrom('region').select('id').where('id', '=', e.region).executeTakeFirst();
  if (!existingRegion) await tx.insertInto('region').values({ id: e.region, description: '', parent_region_id: null, extra: '{}' }).execute();
  const urls = { public: e.publicUrl, internal: e.internalUrl ?? e.publicUrl, admin: e.adminUrl ?? e.publicUrl };
  for (const [iface, url] of Object.entries(urls)) {
    const existing = await tx.selectFrom('endpoint').select(['id', 'url']).where('service_id', '=', service.id)
      .where('interface', '=', iface).where('region_id', '=', e.region).executeTakeFirst();
    if (!existing) {
      await tx.insertInto('endpoint').values({ id: newId(), service_id: service.id, interface: iface, url, region_id: e.region, enabled: 1, extra: '{}' }).execute();
    } else if (existing.url !== url) {
      await tx.updateTable('endpoint').set({ url }).where('id', '=', existing.id).execute();
    }
  }
}

/** Registers (or updates) a service and its endpoints in the catalog; idempotent. */
export function registerService(store: IdentityStore, e: ServiceEndpoints): Promise<void> {
  return store.write((tx) => ensureEndpoints(tx, e));
}

/** A project of the Default domain by name, made when missing; returns its id. */
async function ensureProject(tx: IdentityTx, name: string, description: string): Promise<string> {
  const found = await tx.selectFrom('project').select('id').where('domain_id', '=', DEFAULT_DOMAIN_ID).where('name', '=', name).executeTakeFirst();
  if (found) return found.id;
  const id = newId();
  await tx.insertInto('project').values({
    id, name, domain_id: DEFAULT_DOMAIN_ID, parent_id: DEFAULT_DOMAIN_ID, is_domain: 0, enabled: 1, description, extra: '{}',
  }).execute();
  return id;
}

/**
 * A user of the Default domain by name with this password hash, made when missing; as
 * keystone-manage bootstrap, a re-run sets the password it is given and re-enables the user.
 */
async function ensureUser(tx: IdentityTx, name: string, passwordHash: string, defaultProjectId: string, description: string | null): Promise<string> {
  const found = await tx.selectFrom('user').select('id').where('domain_id', '=', DEFAULT_DOMAIN_ID).where('name', '=', name).executeTakeFirst();
  if (found) {
    await tx.updateTable('user').set({ password_hash: passwordHash, enabled: dbBool(true) }).where('id', '=', found.id).execute();
    return found.id;
  }
  const id = newId();
  await tx.insertInto('user').values({
    id, domain_id: DEFAULT_DOMAIN_ID, name, enabled: 1, password_hash: passwordHash, password_created_at: nowIso(),
    password_expires_at: null, default_project_id: defaultProjectId, description, options: '{}', extra: '{}', created_at: nowIso(),
  }).execute();
  return id;
}

/**
 * A service user (as the image service uses to validate tokens and call other services): a
 * user in the Default domain holding admin and service on the `service` project. Idempotent;
 * a re-run sets the password it is given.
 */
export async function ensureServiceUser(store: IdentityStore, opts: { username: string; password: string; project?: string; passwordHashCost?: number }): Promise<string> {
  const projectName = opts.project ?? 'service';
  const hash = await hashPassword(opts.password, { logN: opts.passwordHashCost });
  return store.write(async (tx) => {
    const projectId = await ensureProject(tx, projectName, 'Service users of the cloud');
    const userId = await ensureUser(tx, opts.username, hash, projectId, `The ${opts.username} service`);
    for (const role of ['admin', 'service']) await ensureAssignment(tx, 'UserProject', userId, projectId, await ensureRole(tx, role));
    return userId;
  });
}

export async function bootstrapIdentity(store: IdentityStore, opts: BootstrapOptions): Promise<BootstrapResult> {
  const username = opts.adminUsername ?? 'admin';
  const projectName = opts.adminProjectName ?? 'admin';
  const region = opts.region ?? 'RegionOne';
  const passwordHash = await hashPassword(opts.adminPassword, { logN: opts.passwordHashCost });
  return store.write(async (tx) => {
    const domain = await tx.selectFrom('project').select('id').where('id', '=', DEFAULT_DOMAIN_ID).executeTakeFirst();
    if (!domain) {
      await tx.insertInto('project').values({
        id: DEFAULT_DOMAIN_ID, name: 'Default', domain_id: ROOT_DOMAIN_ID, parent_id: null, is_domain: 1, enabled: 1,
        description: 'The default domain', extra: '{}',
      }).execute();
    }
    const roleIds: Record<string, string> = {};
    for (const name of ['admin', 'member', 'reader', 'service']) roleIds[name] = await ensureRole(tx, name);
    await ensureImplication(tx, roleIds.admin!, roleIds.member!);
    await ensureImplication(tx, roleIds.member!, roleIds.reader!);

    const projectId = await ensureProject(tx, projectName, 'Bootstrap project for initializing the cloud.');
    const userId = await ensureUser(tx, username, passwordHash, projectId, null);
    await ensureAssignment(tx, 'UserProject', userId, projectId, roleIds.admin!);
    await ensureAssignment(tx, 'UserSystem', userId, SYSTEM_TARGET, roleIds.admin!);

    await ensureEndpoints(tx, {
      type: 'identity', name: 'keystone', region, publicUrl: opts.publicUrl, internalUrl: opts.internalUrl, adminUrl: opts.adminUrl,
    });
    return { userId, projectId, roleIds };
  });
}
