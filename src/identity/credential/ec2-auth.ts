// Turning a request signed with an ec2 credential into a token (POST /v3/ec2tokens and
// /v3/s3tokens): the credential named by the access key, its secret checked against the
// signature by the caller's `verify`, then a project-scoped token for the credential's user on
// its project, with method ec2credential. As Keystone answers:
//   no access key: 401; an access key of no ec2 credential: 404 (whatever the reason, so a
//   probe learns nothing more); a wrong signature: 401; a signed timestamp older than 15
//   minutes: 401; a user without a role on the project, or disabled: 401.
// A credential bound to an application credential yields that application credential's roles
// only (token-service.ts applies them), and only on its project. Trusts and OAuth1 do not exist
// here, so a credential naming one is refused.
import { HttpError, notFound, unauthorized } from '../../core/http/index.ts';
import type { IdentityStore } from '../db/store.ts';
import { getProjectRow, getUserRow } from '../db/lookups.ts';
import type { IdentitySettings } from '../settings.ts';
import { TokenNotValid, type TokenService, type ValidatedToken } from '../token/token-service.ts';
import type { CredentialCipher } from './cipher.ts';
import { EC2, ec2CredentialId, getCredentialRow, readEc2Blob } from './records.ts';

type Obj = Record<string, unknown>;

/** Keystone's [credential] auth_ttl: how old a signed timestamp may be. */
export const SIGNED_TIMESTAMP_TTL_MS = 15 * 60 * 1000;

/** Checks the request's signature against the credential's secret; throws a 401 HttpError when wrong. */
export type SignatureVerifier = (secret: string) => void;

const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);

/** The signed credentials object of an ec2tokens/s3tokens body (Keystone accepts three names for it). */
export function signedCredentials(body: unknown): Obj {
  if (!isObj(body) || Object.keys(body).length === 0) throw new HttpError(400, 'request must include a request body');
  const found = [body.credentials, body.credential, body.ec2Credentials].find((c) => isObj(c) && Object.keys(c).length);
  return (found as Obj | undefined) ?? {};
}

/** An AWS timestamp (ISO 8601, or the basic form X-Amz-Date uses) in ms; NaN when it is neither. */
export function parseSignedTime(value: string): number {
  const basic = /^(\d{4})(\d\d)(\d\d)T(\d\d)(\d\d)(\d\d)Z$/.exec(value);
  if (basic) return Date.UTC(+basic[1]!, +basic[2]! - 1, +basic[3]!, +basic[4]!, +basic[5]!, +basic[6]!);
  if (!/^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d:?\d\d)?$/i.test(value)) return Number.NaN;
  return Date.parse(/(Z|[+-]\d\d:?\d\d)$/i.test(value) ? value : `${value}Z`);
}

function checkTimestamp(credentials: Obj): void {
  const params = isObj(credentials.params) ? credentials.params : {};
  const headers = isObj(credentials.headers) ? credentials.headers : {};
  const value = params.Timestamp || headers['X-Amz-Date'] || params['X-Amz-Date'];
  if (!value) return; // the signer left it out on purpose
  const at = parseSignedTime(String(value));
  if (Number.isNaN(at)) throw unauthorized(`Credential timestamp is invalid: ${String(value)}`);
  if (Date.now() > at + SIGNED_TIMESTAMP_TTL_MS) throw unauthorized('Credential is expired');
}

export class Ec2Authenticator {
  constructor(
    private readonly store: IdentityStore,
    private readonly tokens: TokenService,
    private readonly cipher: CredentialCipher,
    private readonly settings: IdentitySettings,
  ) {}

  async authenticate(credentials: Obj, verify: SignatureVerifier): Promise<ValidatedToken> {
    const access = credentials.access;
    if (typeof access !== 'string' || access === '') throw unauthorized('EC2 Signature not supplied');
    const db = this.store.db;
    const row = await getCredentialRow(db, ec2CredentialId(access));
    const blob = row && row.type === EC2 ? readEc2Blob(this.cipher.decrypt(row.encrypted_blob)) : undefined;
    if (!row || !blob || !row.project_id) throw notFound('EC2 access key not found.');
    verify(typeof blob.secret === 'string' ? blob.secret : String(blob.secret ?? ''));

    const project = await getProjectRow(db, row.project_id);
    if (!project) throw notFound(`Could not find project: ${row.project_id}.`);
    if (!(await getUserRow(db, row.user_id))) throw notFound(`Could not find user: ${row.user_id}.`);
    checkTimestamp(credentials);
    if (blob.trust_id || blob.access_token_id) throw unauthorized('This EC2 credential belongs to a trust or an OAuth1 access token, which this cloud does not have.');

    let appCredId: string | undefined;
    let expiresAt = new Date(Date.now() + this.settings.tokenExpiration * 1000);
    if (blob.app_cred_id) {
      appCredId = String(blob.app_cred_id);
      const appCred = await db.selectFrom('application_credential').selectAll().where('id', '=', appCredId).executeTakeFirst();
      if (!appCred) throw notFound(`Could not find Application Credential: ${appCredId}.`);
      if (appCred.project_id !== project.id) throw unauthorized('EC2 credential project does not match the application credential project.');
      if (appCred.expires_at) {
        const until = Date.parse(appCred.expires_at);
        if (until <= Date.now()) throw unauthorized('The application credential of this EC2 credential has expired.');
        if (until < expiresAt.getTime()) expiresAt = new Date(until);
      }
    } else if (!(await this.tokens.rolesOn(row.user_id, { projectId: project.id })).length) {
      throw unauthorized('User not valid for project.');
    }
    try {
      return await this.tokens.issue({ userId: row.user_id, methods: ['ec2credential'], projectId: project.id, appCredId, expiresAt });
    } catch (err) {
      // disabled user, project or domain, or no role left through the application credential
      if (err instanceof TokenNotValid) throw unauthorized(err.message);
      throw err;
    }
  }
}
