// /v3/credentials: secrets a user keeps in identity (EC2/S3 keys as type ec2, certificates,
// TOTP seeds ...), their blobs encrypted at rest (credential/cipher.ts). As Keystone:
// - an ec2 credential's id is the SHA-256 of its access key (a second one with that key: 409),
//   its blob must be a JSON object with `access`, and it needs a project_id;
// - anyone may hold credentials of their own; an admin manages everyone's; a list shows a
//   caller only what they may read; existence is not revealed to whoever may not read it (403);
// - user_id and project_id are not checked against users and projects (Keystone does not).
// A credential made with an application credential's token is bound to it: tokens made from
// the ec2 credential get only the application credential's roles (credential/ec2-auth.ts).
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { RequestContext } from '../../core/auth/index.ts';
import { policyCredentials } from '../../core/auth/index.ts';
import { badRequest, notFound } from '../../core/http/index.ts';
import type { CredentialTable } from '../db/schema.ts';
import {
  ec2CredentialId, getCredentialRow, insertCredential, isEc2, openRow, parseEc2Blob, updateCredential, type Credential,
} from '../credential/records.ts';
import { assertWithinDelegation, refuseRestrictedApplicationCredential, withinDelegation } from './delegation.ts';
import { authorize, bodyObject, collection, contextOf, field, newId, selfLink, uniquely, type IdentityDeps } from './common.ts';

const COLUMNS = ['id', 'user_id', 'project_id', 'type', 'blob', 'links'];
/** Blob keys that tie an ec2 credential to a delegation: no update may change them. */
const BOUND_KEYS = ['trust_id', 'app_cred_id', 'access_token_id', 'access_id'];

function credentialView(req: FastifyRequest, deps: IdentityDeps, c: Credential) {
  return {
    ...c.extra,
    id: c.id,
    user_id: c.user_id,
    project_id: c.project_id,
    type: c.type,
    blob: c.blob,
    links: selfLink(req, deps, `credentials/${c.id}`),
  };
}

/** What policy sees of a credential (never its blob, which no rule needs). */
export const policyTarget = (c: Pick<CredentialTable, 'id' | 'user_id' | 'project_id' | 'type'> | undefined) =>
  ({ target: { credential: c ? { id: c.id, user_id: c.user_id, project_id: c.project_id, type: c.type } : {} } });

function extraOf(body: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(body).filter(([k]) => !COLUMNS.includes(k)));
}

/** The fields a create or update may set, type-checked. */
function checkFields(body: Record<string, unknown>, required: boolean) {
  return {
    blob: field<string>(body, 'blob', 'string', { required }),
    type: field<string>(body, 'type', 'string', { required }),
    userId: field<string>(body, 'user_id', 'string', { required }),
    projectId: field<string | null>(body, 'project_id', 'nullable-string'),
  };
}

export function registerCredentials(app: FastifyInstance, deps: IdentityDeps): void {
  const db = () => deps.store.db;

  /** The row, after policy `rule` allowed the caller to it; 403 before 404, as Keystone. */
  const loadAuthorized = async (req: FastifyRequest, rule: string, id: string) => {
    const row = await getCredentialRow(db(), id);
    const ctx = authorize(req, deps, rule, policyTarget(row));
    if (!row) throw notFound(`Could not find credential: ${id}.`);
    assertWithinDelegation(ctx, row.project_id);
    return { ctx, row };
  };

  app.post('/v3/credentials', async (req, reply) => {
    const body = bodyObject(req.body, 'credential');
    const f = checkFields(body, true);
    const ec2 = isEc2(f.type);
    if (ec2 && !f.projectId) throw badRequest("Invalid input for field 'project_id': an ec2 credential requires a project_id.");
    const ctx = authorize(req, deps, 'identity:create_credential', { target: { credential: { user_id: f.userId, project_id: f.projectId, type: f.type } } });
    if (ec2) await refuseRestrictedApplicationCredential(db(), ctx, 'credentials');
    assertWithinDelegation(ctx, f.projectId);

    let id = newId();
    let blob = f.blob!;
    if (ec2) {
      const parsed = parseEc2Blob(blob);
      id = ec2CredentialId(parsed.access);
      if (ctx.applicationCredentialId) blob = JSON.stringify({ ...parsed, app_cred_id: ctx.applicationCredentialId });
    }
    const credential: Credential = {
      id, user_id: f.userId!, project_id: f.projectId ?? null, type: f.type!, blob, extra: extraOf(body),
    };
    await uniquely('credential', () => deps.store.write((tx) => insertCredential(tx, deps.credentials, credential)));
    reply.status(201);
    return { credential: credentialView(req, deps, credential) };
  });

  app.get('/v3/credentials', async (req) => {
    const ctx = contextOf(req);
    // As Keystone: a caller without system scope asks for their own credentials.
    authorize(req, deps, 'identity:list_credentials', ctx.system ? {} : { target: { credential: { user_id: ctx.userId } } });
    const q = req.query as Record<string, string | undefined>;
    let query = db().selectFrom('credential').selectAll();
    if (q.user_id !== undefined) query = query.where('user_id', '=', q.user_id);
    if (q.type !== undefined) query = query.where('type', '=', q.type);
    const rows = await query.orderBy('id').execute();
    const visible = rows.filter((r) => mayRead(deps, ctx, r));
    return collection(req, deps, 'credentials', visible.map((r) => credentialView(req, deps, openRow(deps.credentials, r))));
  });

  app.get<{ Params: { id: string } }>('/v3/credentials/:id', async (req) => {
    const { row } = await loadAuthorized(req, 'identity:get_credential', req.params.id);
    return { credential: credentialView(req, deps, openRow(deps.credentials, row)) };
  });

  app.patch<{ Params: { id: string } }>('/v3/credentials/:id', async (req) => {
    const { row } = await loadAuthorized(req, 'identity:update_credential', req.params.id);
    const body = bodyObject(req.body, 'credential');
    if (Object.keys(body).length === 0) throw badRequest("Invalid input for field 'credential': it must name at least one attribute.");
    if (body.id !== undefined && body.id !== row.id) throw badRequest('Cannot change the ID of a credential.');
    const f = checkFields(body, false);
    const current = openRow(deps.credentials, row);
    const next: Credential = {
      ...current,
      user_id: f.userId ?? current.user_id,
      project_id: f.projectId === undefined ? current.project_id : f.projectId,
      type: f.type ?? current.type,
      blob: f.blob ?? current.blob,
      extra: { ...current.extra, ...extraOf(body) },
    };
    if (isEc2(next.type)) {
      if (!next.project_id) throw badRequest("Invalid input for field 'project_id': an ec2 credential requires a project_id.");
      const blob = parseEc2Blob(next.blob);
      if (f.blob !== undefined && isEc2(current.type)) {
        const old = parseEc2Blob(current.blob);
        const changed = BOUND_KEYS.find((k) => JSON.stringify(old[k] ?? null) !== JSON.stringify(blob[k] ?? null));
        if (changed) throw badRequest(`${changed} can not be updated for credential`);
      }
    }
    // The owner may not hand the credential to someone else or move it out of reach.
    const ctx = authorize(req, deps, 'identity:update_credential', policyTarget(next));
    assertWithinDelegation(ctx, next.project_id);
    await deps.store.write((tx) => updateCredential(tx, deps.credentials, next));
    return { credential: credentialView(req, deps, next) };
  });

  app.delete<{ Params: { id: string } }>('/v3/credentials/:id', async (req, reply) => {
    const { row } = await loadAuthorized(req, 'identity:delete_credential', req.params.id);
    await deps.store.write((tx) => tx.deleteFrom('credential').where('id', '=', row.id).execute());
    reply.status(204).send();
  });
}

/** Whether the caller may read this credential: get_credential's policy, and a delegation's bounds. */
function mayRead(deps: IdentityDeps, ctx: RequestContext, row: CredentialTable): boolean {
  return deps.policy.check('identity:get_credential', policyTarget(row), policyCredentials(ctx)) && withinDelegation(ctx, row.project_id);
}
