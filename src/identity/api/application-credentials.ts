// /v3/users/{user_id}/application_credentials. A user delegates some of their roles on the
// project their token is scoped to; the secret is shown once, at creation, and kept only as a
// scrypt hash. Choices where Keystone leaves room:
// - access_rules are not supported: a non-empty list is refused with 400 rather than ignored,
//   so nobody believes a credential is narrower than it is.
// - creating one needs a project-scoped token (403 otherwise): the project is the token's.
// - deleting one needs no revocation event: validating a token issued from it looks the
//   credential up (token-service.ts), so its tokens stop working with the delete's write.
import { randomBytes } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { RequestContext } from '../../core/auth/index.ts';
import { dbBool, fromDbBool, nowIso } from '../../core/db/index.ts';
import { HttpError, badRequest, forbidden, notFound } from '../../core/http/index.ts';
import { GLOBAL_ROLE_DOMAIN, type ApplicationCredentialTable } from '../db/schema.ts';
import type { IdentityDb } from '../db/store.ts';
import { getUserRow } from '../db/lookups.ts';
import { expandImpliedRoles } from '../assignment/effective-roles.ts';
import { hashPassword } from '../password.ts';
import { refuseRestrictedApplicationCredential } from './delegation.ts';
import { authorize, bodyObject, collection, field, newId, selfLink, uniquely, type IdentityDeps } from './common.ts';

const ACCEPTED = ['id', 'name', 'secret', 'description', 'expires_at', 'roles', 'unrestricted', 'access_rules', 'project_id'];
const ISO_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d{1,9})?)?(Z|[+-]\d\d:?\d\d)?$/i;

interface RoleRef { id: string; name: string; domain_id: string }

/** Keystone shows an application credential's expiry without a zone (UTC), microseconds: clients parse exactly that. */
function expiryView(value: string | null): string | null {
  if (!value) return null;
  const [whole, fraction = ''] = value.replace(/Z$/, '').split('.');
  return `${whole}.${fraction.padEnd(6, '0').slice(0, 6)}`;
}

/** The credential's view; never its secret (the create answer adds it). */
function credentialView(req: FastifyRequest, deps: IdentityDeps, c: ApplicationCredentialTable, roles: RoleRef[]) {
  return {
    id: c.id,
    name: c.name,
    description: c.description,
    expires_at: expiryView(c.expires_at),
    project_id: c.project_id,
    user_id: c.user_id,
    roles: roles.map((r) => ({ id: r.id, name: r.name, domain_id: r.domain_id === GLOBAL_ROLE_DOMAIN ? null : r.domain_id })),
    unrestricted: fromDbBool(c.unrestricted),
    access_rules: [],
    links: selfLink(req, deps, `users/${c.user_id}/application_credentials/${c.id}`),
  };
}

/** Each credential's roles, by credential id. */
async function rolesOf(db: IdentityDb, ids: string[]): Promise<Map<string, RoleRef[]>> {
  const result = new Map<string, RoleRef[]>(ids.map((id) => [id, []]));
  if (!ids.length) return result;
  const rows = await db.selectFrom('application_credential_role')
    .innerJoin('role', 'role.id', 'application_credential_role.role_id')
    .select(['application_credential_role.application_credential_id as cred', 'role.id', 'role.name', 'role.domain_id'])
    .where('application_credential_role.application_credential_id', 'in', ids)
    .orderBy('role.name')
    .execute();
  for (const r of rows) result.get(r.cred)?.push({ id: r.id, name: r.name, domain_id: r.domain_id });
  return result;
}

/** A url-safe random secret: 64 random bytes, base64url without padding. */
const generateSecret = () => randomBytes(64).toString('base64url');

function parseExpiry(value: string | null | undefined): string | null {
  if (value === undefined || value === null) return null;
  if (!ISO_TIME.test(value)) {
    throw badRequest(`Invalid input for field 'expires_at': '${value}' is not an ISO 8601 timestamp (e.g. 2030-01-01T00:00:00Z).`);
  }
  // As Keystone: a time without a zone is UTC.
  const zoned = /(Z|[+-]\d\d:?\d\d)$/i.test(value) ? value : `${value}Z`;
  const at = Date.parse(zoned);
  if (Number.isNaN(at)) throw badRequest(`Invalid input for field 'expires_at': '${value}' is not a valid time.`);
  if (at <= Date.now()) throw badRequest("The 'expires_at' must not be before now.");
  // Kept to the microsecond the client gave (Keystone echoes it exactly), in UTC.
  const fraction = /^[^.]*T[\d:]+\.(\d+)(Z)?$/i.exec(value);
  const micros = fraction ? fraction[1]!.padEnd(6, '0').slice(0, 6) : '000000';
  const utc = new Date(at).toISOString();
  return fraction ? utc.replace(/\.\d{3}Z$/, `.${micros}Z`) : utc;
}

/** The roles a new credential gets: those asked for plus what they imply, all held by the token. */
async function chooseRoles(db: IdentityDb, ctx: RequestContext, asked: unknown): Promise<string[]> {
  if (asked === undefined || asked === null || (Array.isArray(asked) && asked.length === 0)) return [...ctx.roleIds];
  if (!Array.isArray(asked)) throw badRequest("Invalid input for field 'roles': expected a list of {\"id\": ...} or {\"name\": ...}.");
  const ids: string[] = [];
  for (const ref of asked) {
    const r = ref as Record<string, unknown> | null;
    if (r && typeof r === 'object' && typeof r.id === 'string' && r.id) {
      ids.push(r.id);
    } else if (r && typeof r === 'object' && typeof r.name === 'string' && r.name) {
      // tokens only ever carry global roles, so a name means the global role of that name
      const role = await db.selectFrom('role').select('id').where('name', '=', r.name).where('domain_id', '=', GLOBAL_ROLE_DOMAIN).executeTakeFirst();
      if (!role) throw notFound(`Could not find role: ${r.name}.`);
      ids.push(role.id);
    } else {
      throw badRequest(`Invalid input for field 'roles': ${JSON.stringify(ref)} must name a role by "id" or "name".`);
    }
  }
  const all = await expandImpliedRoles(db, ids);
  const held = new Set(ctx.roleIds);
  for (const id of all) {
    if (!held.has(id)) throw badRequest('Invalid application credential: Cannot create an application credential with unassigned role.');
  }
  return [...all];
}

export function registerApplicationCredentials(app: FastifyInstance, deps: IdentityDeps): void {
  const db = () => deps.store.db;
  const base = '/v3/users/:id/application_credentials';

  const show = async (req: FastifyRequest, row: ApplicationCredentialTable) =>
    credentialView(req, deps, row, (await rolesOf(db(), [row.id])).get(row.id)!);

  const load = async (userId: string, credId: string) => {
    const row = await db().selectFrom('application_credential').selectAll()
      .where('id', '=', credId).where('user_id', '=', userId).executeTakeFirst();
    if (!row) throw notFound(`Could not find Application Credential: ${credId}.`);
    return row;
  };

  /** A token from a restricted application credential may not make or remove credentials. */
  const refuseRestricted = (ctx: RequestContext) => refuseRestrictedApplicationCredential(db(), ctx, 'application credentials');

  app.post<{ Params: { id: string } }>(base, async (req, reply) => {
    const userId = req.params.id;
    const ctx = authorize(req, deps, 'identity:create_application_credential', { user_id: userId });
    const body = bodyObject(req.body, 'application_credential');
    await refuseRestricted(ctx);
    if (ctx.userId !== userId) throw forbidden('You are not authorized to perform the requested action: Cannot create an application credential for another user.');
    if (!ctx.projectId) throw new HttpError(403, 'Application credentials can only be created with a project-scoped token.');

    const unexpected = Object.keys(body).filter((k) => !ACCEPTED.includes(k));
    if (unexpected.length) throw badRequest(`Invalid input for field 'application_credential': additional properties are not allowed (${unexpected.map((k) => `'${k}'`).join(', ')} unexpected).`);
    const name = field<string>(body, 'name', 'string', { required: true, maxLength: 255 })!;
    if (!/\S/.test(name)) throw badRequest(`Invalid input for field 'name': '${name}' is blank.`);
    const description = field<string | null>(body, 'description', 'nullable-string') ?? null;
    const secret = field<string | null>(body, 'secret', 'nullable-string') || generateSecret();
    const unrestricted = (body.unrestricted === null ? undefined : field<boolean>(body, 'unrestricted', 'boolean')) ?? false;
    const expiresAt = parseExpiry(field<string | null>(body, 'expires_at', 'nullable-string'));
    const accessRules = body.access_rules ?? [];
    if (!Array.isArray(accessRules)) throw badRequest("Invalid input for field 'access_rules': expected a list.");
    if (accessRules.length) throw badRequest('Access rules on application credentials are not supported by this cloud.');
    const roleIds = await chooseRoles(db(), ctx, body.roles);
    if (!roleIds.length) throw badRequest('Invalid application credential: the token carries no role to delegate.');

    const row: ApplicationCredentialTable = {
      id: newId(), user_id: userId, project_id: ctx.projectId, name, description, expires_at: expiresAt,
      secret_hash: await hashPassword(secret, { logN: deps.settings.passwordHashCost }),
      unrestricted: dbBool(unrestricted), created_at: nowIso(),
    };
    await uniquely(`application credential ${name}`, () => deps.store.write(async (tx) => {
      await tx.insertInto('application_credential').values(row).execute();
      for (const roleId of roleIds) {
        await tx.insertInto('application_credential_role').values({ application_credential_id: row.id, role_id: roleId }).execute();
      }
    }));
    reply.status(201);
    return { application_credential: { ...(await show(req, row)), secret } };
  });

  app.get<{ Params: { id: string } }>(base, async (req) => {
    const userId = req.params.id;
    authorize(req, deps, 'identity:list_application_credentials', { user_id: userId });
    if (!(await getUserRow(db(), userId))) throw notFound(`Could not find user: ${userId}.`);
    const q = req.query as Record<string, string | undefined>;
    let query = db().selectFrom('application_credential').selectAll().where('user_id', '=', userId);
    if (q.name !== undefined) query = query.where('name', '=', q.name);
    const rows = await query.orderBy('name').execute();
    const roles = await rolesOf(db(), rows.map((r) => r.id));
    return collection(req, deps, 'application_credentials', rows.map((r) => credentialView(req, deps, r, roles.get(r.id)!)));
  });

  app.get<{ Params: { id: string; credentialId: string } }>(`${base}/:credentialId`, async (req) => {
    authorize(req, deps, 'identity:get_application_credential', { user_id: req.params.id });
    return { application_credential: await show(req, await load(req.params.id, req.params.credentialId)) };
  });

  app.delete<{ Params: { id: string; credentialId: string } }>(`${base}/:credentialId`, async (req, reply) => {
    const ctx = authorize(req, deps, 'identity:delete_application_credential', { user_id: req.params.id });
    await refuseRestricted(ctx);
    const row = await load(req.params.id, req.params.credentialId);
    await deps.store.write(async (tx) => {
      await tx.deleteFrom('application_credential_role').where('application_credential_id', '=', row.id).execute();
      await tx.deleteFrom('application_credential').where('id', '=', row.id).execute();
    });
    reply.status(204).send();
  });
}
