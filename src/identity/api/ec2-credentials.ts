// /v3/users/{user_id}/credentials/OS-EC2: EC2/S3 access keys (`openstack ec2 credentials ...`).
// They are type ec2 rows of the credentials API (credentials.ts shows the same ones), named here
// by their access key. As Keystone:
// - a new one gets a random 32-hex access key and secret, for a project that must exist (404);
//   the user need not hold a role on it yet: a token made from it will need one;
// - looking one up by access key answers 404 when there is none and 401 when the key names a
//   credential of another type; the path's user is only checked to exist, policy decides whose
//   credential the caller may see (its owner's, or anyone's for an admin).
// One difference: one made with an application credential's token is bound to that application
// credential, as the credentials API binds it, so it cannot outgrow the delegation.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { unauthorized, notFound } from '../../core/http/index.ts';
import { getProjectRow, getUserRow } from '../db/lookups.ts';
import { EC2, ec2CredentialId, getCredentialRow, insertCredential, openRow, readEc2Blob, type Credential } from '../credential/records.ts';
import { policyTarget } from './credentials.ts';
import { assertWithinDelegation, refuseRestrictedApplicationCredential, withinDelegation } from './delegation.ts';
import { authorize, baseUrl, collection, contextOf, newId, type IdentityDeps } from './common.ts';

/** The OS-EC2 view of a credential. */
function ec2View(req: FastifyRequest, deps: IdentityDeps, c: Credential) {
  const blob = readEc2Blob(c.blob);
  const access = blob?.access ?? null;
  return {
    user_id: c.user_id,
    tenant_id: c.project_id,
    access,
    secret: blob?.secret ?? null,
    trust_id: blob?.trust_id ?? null,
    links: { self: `${baseUrl(req, deps)}/v3/users/${c.user_id}/credentials/OS-EC2/${access}` },
  };
}

export function registerEc2Credentials(app: FastifyInstance, deps: IdentityDeps): void {
  const db = () => deps.store.db;
  const base = '/v3/users/:id/credentials/OS-EC2';

  const userMustExist = async (userId: string) => {
    if (!(await getUserRow(db(), userId))) throw notFound(`Could not find user: ${userId}.`);
  };

  /** The credential of this access key, after policy `rule` allowed the caller to it. */
  const loadAuthorized = async (req: FastifyRequest<{ Params: { id: string; access: string } }>, rule: string) => {
    const id = ec2CredentialId(req.params.access);
    const row = await getCredentialRow(db(), id);
    if (!row) throw notFound(`Could not find credential: ${id}.`);
    const ctx = authorize(req, deps, rule, policyTarget(row));
    await userMustExist(req.params.id);
    if (row.type !== EC2) throw unauthorized('EC2 access key not found.');
    assertWithinDelegation(ctx, row.project_id, 'EC2 credential');
    return row;
  };

  app.post<{ Params: { id: string } }>(base, async (req, reply) => {
    const userId = req.params.id;
    const ctx = authorize(req, deps, 'identity:ec2_create_credential', { target: { credential: { user_id: userId } } });
    await refuseRestrictedApplicationCredential(db(), ctx, 'credentials');
    await userMustExist(userId);
    const tenantId = (req.body as Record<string, unknown> | undefined)?.tenant_id;
    const project = typeof tenantId === 'string' ? await getProjectRow(db(), tenantId) : undefined;
    if (!project) throw notFound(`Could not find project: ${String(tenantId ?? null)}.`);
    assertWithinDelegation(ctx, project.id, 'EC2 credential');

    const blob: Record<string, unknown> = { access: newId(), secret: newId(), trust_id: null };
    if (ctx.applicationCredentialId) blob.app_cred_id = ctx.applicationCredentialId;
    const credential: Credential = {
      id: ec2CredentialId(blob.access as string), user_id: userId, project_id: project.id, type: EC2, blob: JSON.stringify(blob), extra: {},
    };
    await deps.store.write((tx) => insertCredential(tx, deps.credentials, credential));
    reply.status(201);
    return { credential: ec2View(req, deps, credential) };
  });

  app.get<{ Params: { id: string } }>(base, async (req) => {
    const userId = req.params.id;
    authorize(req, deps, 'identity:ec2_list_credentials', { user_id: userId });
    await userMustExist(userId);
    const ctx = contextOf(req);
    const rows = await db().selectFrom('credential').selectAll().where('user_id', '=', userId).where('type', '=', EC2).orderBy('id').execute();
    const credentials = rows.filter((r) => withinDelegation(ctx, r.project_id)).map((r) => ec2View(req, deps, openRow(deps.credentials, r)));
    return collection(req, deps, 'credentials', credentials);
  });

  app.get<{ Params: { id: string; access: string } }>(`${base}/:access`, async (req) => {
    const row = await loadAuthorized(req, 'identity:ec2_get_credential');
    return { credential: ec2View(req, deps, openRow(deps.credentials, row)) };
  });

  app.delete<{ Params: { id: string; access: string } }>(`${base}/:access`, async (req, reply) => {
    const row = await loadAuthorized(req, 'identity:ec2_delete_credential');
    await deps.store.write((tx) => tx.deleteFrom('credential').where('id', '=', row.id).execute());
    reply.status(204).send();
  });
}
