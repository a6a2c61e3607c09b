// /v3/roles. A role is global, or domain-specific when it has a domain_id: a domain-specific
// role never appears in a token itself, it only carries the roles it implies, and its name is
// unique within its domain only. Deleting a role removes its assignments and implication rules
// and revokes the tokens that carry it. The one role option is Keystone's "immutable": such a
// role can be neither changed nor deleted until the option is set back to false.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { HttpError, badRequest, notFound } from '../../core/http/index.ts';
import { GLOBAL_ROLE_DOMAIN, type RoleTable } from '../db/schema.ts';
import { getDomainRow, getRoleRow } from '../db/lookups.ts';
import { authorize, bodyObject, collection, extraOf, field, newId, parseJson, selfLink, uniquely, type IdentityDeps } from './common.ts';

const KNOWN = ['id', 'name', 'domain_id', 'description', 'options'];
const OPTIONS = ['immutable'];

/** The role as the API shows it: domain_id is null for a global role. */
export function roleView(req: FastifyRequest, deps: IdentityDeps, row: RoleTable) {
  return {
    ...parseJson(row.extra),
    id: row.id,
    name: row.name,
    domain_id: row.domain_id === GLOBAL_ROLE_DOMAIN ? null : row.domain_id,
    description: row.description,
    options: parseJson(row.options),
    links: selfLink(req, deps, `roles/${row.id}`),
  };
}

export const isDomainRole = (row: RoleTable) => row.domain_id !== GLOBAL_ROLE_DOMAIN;
export const roleNotFound = (id: string) => notFound(`Could not find role: ${id}.`);

/** Loads a role, 404 in Keystone's words when there is none. */
export async function loadRole(deps: IdentityDeps, id: string): Promise<RoleTable> {
  const row = await getRoleRow(deps.store.db, id);
  if (!row) throw roleNotFound(id);
  return row;
}

function checkName(body: Record<string, unknown>, required: boolean): string | undefined {
  const name = field<string>(body, 'name', 'string', { required, minLength: 1, maxLength: 255 });
  if (name !== undefined && !/\S/.test(name)) throw badRequest(`Invalid input for field 'name': '${name}' does not match '[\\S]+'.`);
  return name;
}

/** The role options in a request, checked; null values remove an option. */
function checkOptions(body: Record<string, unknown>): Record<string, unknown> | undefined {
  const options = field<Record<string, unknown>>(body, 'options', 'object');
  if (!options) return undefined;
  for (const [k, v] of Object.entries(options)) {
    if (!OPTIONS.includes(k)) throw badRequest(`Invalid input for field 'options': additional properties are not allowed ('${k}' was unexpected).`);
    if (v !== null && typeof v !== 'boolean') throw badRequest(`Invalid input for field 'options.${k}': ${JSON.stringify(v)} is not of type 'boolean', 'null'.`);
  }
  return options;
}

function mergeOptions(current: Record<string, unknown>, change: Record<string, unknown> | undefined): string {
  const merged = { ...current };
  for (const [k, v] of Object.entries(change ?? {})) {
    if (v === null) delete merged[k];
    else merged[k] = v;
  }
  return JSON.stringify(merged);
}

const immutable = (row: RoleTable) => parseJson(row.options).immutable === true;

export function registerRoles(app: FastifyInstance, deps: IdentityDeps): void {
  const db = () => deps.store.db;

  // Authorization comes before the 404, as in Keystone, so that a caller who may not see roles
  // cannot learn which ids exist.
  const loadAuthorized = async (req: FastifyRequest, id: string, action: 'get' | 'update' | 'delete') => {
    const row = await getRoleRow(db(), id);
    if (row && isDomainRole(row)) {
      authorize(req, deps, `identity:${action}_domain_role`, { target: { role: { id: row.id, domain_id: row.domain_id } } });
    } else {
      authorize(req, deps, `identity:${action}_role`);
    }
    if (!row) throw roleNotFound(id);
    return row;
  };

  app.get('/v3/roles', async (req) => {
    const q = req.query as Record<string, string | undefined>;
    if (q.domain_id) authorize(req, deps, 'identity:list_domain_roles', { target: { domain_id: q.domain_id } });
    else authorize(req, deps, 'identity:list_roles');
    // without domain_id, only the global roles (as Keystone)
    let query = db().selectFrom('role').selectAll().where('domain_id', '=', q.domain_id || GLOBAL_ROLE_DOMAIN);
    if (q.name !== undefined) query = query.where('name', '=', q.name);
    const rows = await query.orderBy('name').orderBy('id').execute();
    return collection(req, deps, 'roles', rows.map((r) => roleView(req, deps, r)));
  });

  app.post('/v3/roles', async (req, reply) => {
    const body = bodyObject(req.body, 'role');
    const domainId = field<string | null>(body, 'domain_id', 'nullable-string', { maxLength: 64 }) ?? undefined;
    if (domainId) authorize(req, deps, 'identity:create_domain_role', { target: { role: { domain_id: domainId } } });
    else authorize(req, deps, 'identity:create_role');
    const name = checkName(body, true)!;
    const description = field<string | null>(body, 'description', 'nullable-string', { maxLength: 255 });
    const options = checkOptions(body);
    if (domainId && !(await getDomainRow(db(), domainId))) throw notFound(`Could not find domain: ${domainId}.`);
    const row: RoleTable = {
      id: newId(),
      name,
      domain_id: domainId ?? GLOBAL_ROLE_DOMAIN,
      description: description ?? null,
      options: mergeOptions({}, options),
      extra: extraOf(body, KNOWN),
    };
    await uniquely(`role ${name}`, () => deps.store.write((tx) => tx.insertInto('role').values(row).execute()));
    reply.status(201);
    return { role: roleView(req, deps, (await getRoleRow(db(), row.id))!) };
  });

  app.get<{ Params: { role_id: string } }>('/v3/roles/:role_id', async (req) => {
    const row = await loadAuthorized(req, req.params.role_id, 'get');
    return { role: roleView(req, deps, row) };
  });

  app.patch<{ Params: { role_id: string } }>('/v3/roles/:role_id', async (req) => {
    const row = await loadAuthorized(req, req.params.role_id, 'update');
    const body = bodyObject(req.body, 'role');
    if (body.id !== undefined && body.id !== row.id) throw badRequest('Cannot change the ID of a role.');
    const currentDomain = isDomainRole(row) ? row.domain_id : null;
    if (body.domain_id !== undefined && body.domain_id !== currentDomain) throw badRequest('Update of `domain_id` is not allowed.');
    const name = checkName(body, false);
    const description = field<string | null>(body, 'description', 'nullable-string', { maxLength: 255 });
    const options = checkOptions(body);
    if (immutable(row)) {
      // the only change an immutable role takes is switching the option off
      const onlyUnlocks = Object.keys(body).length === 1 && options !== undefined
        && Object.keys(options).length === 1 && (options.immutable === false || options.immutable === null);
      if (!onlyUnlocks) {
        throw new HttpError(403, `Unable to update immutable role resource: \`${row.id}\`. Set resource option "immutable" to false first.`);
      }
    }
    await uniquely(`role ${name ?? row.name}`, () =>
      deps.store.write((tx) =>
        tx.updateTable('role').set({
          name: name ?? row.name,
          description: description === undefined ? row.description : description,
          options: mergeOptions(parseJson(row.options), options),
          extra: JSON.stringify({ ...parseJson(row.extra), ...parseJson(extraOf(body, KNOWN)) }),
        }).where('id', '=', row.id).execute(),
      ),
    );
    return { role: roleView(req, deps, (await getRoleRow(db(), row.id))!) };
  });

  app.delete<{ Params: { role_id: string } }>('/v3/roles/:role_id', async (req, reply) => {
    const row = await loadAuthorized(req, req.params.role_id, 'delete');
    if (immutable(row)) {
      throw new HttpError(403, `Unable to delete immutable role resource: \`${row.id}\`. Set resource option "immutable" to false first.`);
    }
    await deps.store.write(async (tx) => {
      await tx.deleteFrom('assignment').where('role_id', '=', row.id).execute();
      await tx.deleteFrom('implied_role').where((eb) => eb.or([eb('prior_role_id', '=', row.id), eb('implied_role_id', '=', row.id)])).execute();
      await tx.deleteFrom('application_credential_role').where('role_id', '=', row.id).execute();
      await tx.deleteFrom('role').where('id', '=', row.id).execute();
      await deps.tokens.revokeMatching(tx, { role_id: row.id });
    });
    reply.status(204).send();
  });
}
