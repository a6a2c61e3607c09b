// POST /v3/auth/tokens request handling: who is authenticating (password, token or
// application credential) and on which scope, with Keystone's answers for each failure:
// 400 for a malformed request, 401 for anything about the credentials or the scope.
import { fromDbBool } from '../../core/db/index.ts';
import { HttpError, badRequest, unauthorized } from '../../core/http/index.ts';
import type { IdentityStore } from '../db/store.ts';
import { findDomainByName, findProjectByName, findUserByName, getDomainRow, getProjectRow, getUserRow } from '../db/lookups.ts';
import { verifyPassword } from '../password.ts';
import type { IssueRequest } from './token-provider.ts';
import type { TokenService, ValidatedToken } from './token-service.ts';
import { TokenNotValid } from './token-service.ts';
import type { IdentitySettings } from '../settings.ts';

type Obj = Record<string, unknown>;
const INVALID_CREDENTIALS = 'The request you have made requires authentication.';

const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);

function objAt(parent: Obj, key: string, where: string): Obj {
  const v = parent[key];
  if (!isObj(v)) throw badRequest(`Invalid input for field '${where}${key}': expected an object.`);
  return v;
}

function stringAt(parent: Obj, key: string, where: string): string {
  const v = parent[key];
  if (typeof v !== 'string' || v === '') throw badRequest(`Invalid input for field '${where}${key}': expected a non-empty string.`);
  return v;
}

interface Authenticated {
  userId: string;
  methods: string[];
  /** set when authenticating with a token: its expiry carries over, and its audit chain */
  fromToken?: ValidatedToken;
  appCred?: { id: string; projectId: string; expiresAt: string | null };
}

export class Authenticator {
  constructor(
    private readonly store: IdentityStore,
    private readonly tokens: TokenService,
    private readonly settings: IdentitySettings,
  ) {}

  /** Checks the credentials and scope in `body` and issues the token. */
  async authenticate(body: unknown, headerToken: string | undefined): Promise<ValidatedToken> {
    if (!isObj(body)) throw badRequest("Invalid input for field 'auth': the request body must be an object.");
    const auth = objAt(body, 'auth', '');
    const identity = objAt(auth, 'identity', 'auth.');
    const methods = identity.methods;
    if (!Array.isArray(methods) || methods.length === 0 || !methods.every((m) => typeof m === 'string')) {
      throw badRequest("Invalid input for field 'auth.identity.methods': expected a non-empty list of strings.");
    }
    const who = await this.identify(identity, methods as string[], headerToken);
    const scope = await this.resolveScope(auth.scope, who);
    const request = this.issueRequest(who, scope);
    try {
      return await this.tokens.issue(request);
    } catch (err) {
      if (err instanceof TokenNotValid) throw unauthorized(err.message);
      throw err;
    }
  }

  private async identify(identity: Obj, methods: string[], headerToken: string | undefined): Promise<Authenticated> {
    let result: Authenticated | undefined;
    for (const method of new Set(methods)) {
      if (!isObj(identity[method]) && !(method === 'token' && headerToken)) {
        throw badRequest(`Invalid input for field 'auth.identity.${method}': expected an object.`);
      }
      let userId: string;
      let extra: Partial<Authenticated> = {};
      if (method === 'password') userId = await this.password(objAt(identity, 'password', 'auth.identity.'));
      else if (method === 'token') ({ userId, extra } = await this.token(identity.token as Obj | undefined, headerToken));
      else if (method === 'application_credential') ({ userId, extra } = await this.applicationCredential(objAt(identity, method, 'auth.identity.')));
      else throw unauthorized(`Attempted to authenticate with an unsupported method: ${method}.`);
      if (result && result.userId !== userId) throw unauthorized('User IDs do not match across authentication methods.');
      result = { ...(result ?? { userId, methods: [] }), ...extra, userId };
      result.methods.push(method);
    }
    return result!;
  }

  /** The user a name/domain or id names; null when there is none. */
  private async findUser(user: Obj): Promise<{ id: string; enabled: number; domain_id: string; password_hash: string | null; password_expires_at: string | null } | undefined> {
    const db = this.store.db;
    if (typeof user.id === 'string') return getUserRow(db, user.id);
    const name = stringAt(user, 'name', 'auth.identity.password.user.');
    const domain = objAt(user, 'domain', 'auth.identity.password.user.');
    const row = typeof domain.id === 'string' ? await getDomainRow(db, domain.id)
      : await findDomainByName(db, stringAt(domain, 'name', 'auth.identity.password.user.domain.'));
    if (!row) return undefined;
    if (!fromDbBool(row.enabled)) throw unauthorized(INVALID_CREDENTIALS);
    return findUserByName(db, name, row.id);
  }

  private async password(password: Obj): Promise<string> {
    const user = objAt(password, 'user', 'auth.identity.password.');
    const secret = user.password;
    if (typeof secret !== 'string') throw badRequest("Invalid input for field 'auth.identity.password.user.password': expected a string.");
    const row = await this.findUser(user);
    // Unknown users are checked against nothing at the same cost, so both fail alike.
    const ok = await verifyPassword(secret, row?.password_hash);
    if (!row || !ok || !fromDbBool(row.enabled)) throw unauthorized(INVALID_CREDENTIALS);
    const domain = await getDomainRow(this.store.db, row.domain_id);
    if (!domain || !fromDbBool(domain.enabled)) throw unauthorized(INVALID_CREDENTIALS);
    if (row.password_expires_at && Date.parse(row.password_expires_at) <= Date.now()) {
      throw unauthorized('The password is expired and needs to be changed for user: ' + row.id + '.');
    }
    return row.id;
  }

  private async token(token: Obj | undefined, headerToken: string | undefined) {
    const id = typeof token?.id === 'string' ? token.id : headerToken;
    if (!id) throw badRequest("Invalid input for field 'auth.identity.token.id': expected a string.");
    let validated: ValidatedToken;
    try {
      validated = await this.tokens.validate(id);
    } catch (err) {
      if (err instanceof TokenNotValid) throw unauthorized(INVALID_CREDENTIALS);
      throw err;
    }
    if (validated.data.appCredId) throw unauthorized('A token created with an application credential cannot be rescoped.');
    return { userId: validated.data.userId, extra: { fromToken: validated } };
  }

  private async applicationCredential(cred: Obj) {
    const secret = cred.secret;
    if (typeof secret !== 'string') throw badRequest("Invalid input for field 'auth.identity.application_credential.secret': expected a string.");
    const db = this.store.db;
    let row;
    if (typeof cred.id === 'string') {
      row = await db.selectFrom('application_credential').selectAll().where('id', '=', cred.id).executeTakeFirst();
    } else {
      const name = stringAt(cred, 'name', 'auth.identity.application_credential.');
      const user = await this.findUser(objAt(cred, 'user', 'auth.identity.application_credential.'));
      row = user && await db.selectFrom('application_credential').selectAll()
        .where('user_id', '=', user.id).where('name', '=', name).executeTakeFirst();
    }
    const ok = await verifyPassword(secret, row?.secret_hash);
    if (!row || !ok) throw unauthorized(INVALID_CREDENTIALS);
    if (row.expires_at && Date.parse(row.expires_at) <= Date.now()) throw unauthorized(INVALID_CREDENTIALS);
    const user = await getUserRow(db, row.user_id);
    if (!user || !fromDbBool(user.enabled)) throw unauthorized(INVALID_CREDENTIALS);
    return { userId: row.user_id, extra: { appCred: { id: row.id, projectId: row.project_id, expiresAt: row.expires_at } } };
  }

  private async resolveScope(scope: unknown, who: Authenticated): Promise<Pick<IssueRequest, 'projectId' | 'domainId' | 'system'>> {
    const db = this.store.db;
    if (who.appCred) {
      if (scope !== undefined) throw unauthorized('Application credentials cannot request a scope.');
      return { projectId: who.appCred.projectId };
    }
    if (scope === undefined || scope === 'unscoped') {
      // As Keystone: a password login without scope lands on the user's default project when it can.
      if (who.fromToken || !who.methods.includes('password')) return {};
      const user = await getUserRow(db, who.userId);
      const project = user?.default_project_id ? await getProjectRow(db, user.default_project_id) : undefined;
      if (project && fromDbBool(project.enabled) && (await this.tokens.rolesOn(who.userId, { projectId: project.id })).length) {
        return { projectId: project.id };
      }
      return {};
    }
    if (!isObj(scope)) throw badRequest("Invalid input for field 'auth.scope': expected an object.");
    const kinds = ['project', 'domain', 'system', 'OS-TRUST:trust'].filter((k) => k in scope);
    if (kinds.length !== 1) throw badRequest("Invalid input for field 'auth.scope': specify exactly one of project, domain or system.");
    if (kinds[0] === 'OS-TRUST:trust') throw new HttpError(403, 'Trusts are not supported.');
    if (kinds[0] === 'system') {
      const system = objAt(scope, 'system', 'auth.scope.');
      if (system.all !== true) throw badRequest("Invalid input for field 'auth.scope.system': only {\"all\": true} is supported.");
      if (!(await this.tokens.rolesOn(who.userId, { system: 'all' })).length) throw unauthorized(`User ${who.userId} has no access to the system.`);
      return { system: 'all' };
    }
    if (kinds[0] === 'domain') {
      const d = objAt(scope, 'domain', 'auth.scope.');
      const domain = typeof d.id === 'string' ? await getDomainRow(db, d.id) : await findDomainByName(db, stringAt(d, 'name', 'auth.scope.domain.'));
      if (!domain) throw unauthorized(`Could not find domain: ${String(d.id ?? d.name)}.`);
      if (!fromDbBool(domain.enabled)) throw unauthorized(`Domain ${domain.id} is disabled.`);
      if (!(await this.tokens.rolesOn(who.userId, { domainId: domain.id })).length) {
        throw unauthorized(`User ${who.userId} has no access to domain ${domain.id}.`);
      }
      return { domainId: domain.id };
    }
    const p = objAt(scope, 'project', 'auth.scope.');
    let project;
    if (typeof p.id === 'string') project = await getProjectRow(db, p.id);
    else {
      const name = stringAt(p, 'name', 'auth.scope.project.');
      const d = objAt(p, 'domain', 'auth.scope.project.');
      const domain = typeof d.id === 'string' ? await getDomainRow(db, d.id) : await findDomainByName(db, stringAt(d, 'name', 'auth.scope.project.domain.'));
      project = domain && (await findProjectByName(db, name, domain.id));
    }
    if (!project) throw unauthorized(`Could not find project: ${String(p.id ?? p.name)}.`);
    const domain = await getDomainRow(db, project.domain_id);
    if (!fromDbBool(project.enabled) || !domain || !fromDbBool(domain.enabled)) throw unauthorized(`Project ${project.id} is disabled.`);
    if (!(await this.tokens.rolesOn(who.userId, { projectId: project.id })).length) {
      throw unauthorized(`User ${who.userId} has no access to project ${project.id}.`);
    }
    return { projectId: project.id };
  }

  private issueRequest(who: Authenticated, scope: Pick<IssueRequest, 'projectId' | 'domainId' | 'system'>): IssueRequest {
    let expiresAt = new Date(Date.now() + this.settings.tokenExpiration * 1000);
    const request: IssueRequest = { userId: who.userId, methods: who.methods, expiresAt, ...scope };
    if (who.fromToken) {
      // A token made from a token never outlives it, and keeps its audit chain.
      const parent = who.fromToken.data;
      request.expiresAt = parent.expiresAt;
      request.methods = [...new Set([...parent.methods, ...who.methods])];
      request.parentAuditId = parent.auditIds[1] ?? parent.auditIds[0];
    }
    if (who.appCred) {
      request.appCredId = who.appCred.id;
      if (who.appCred.expiresAt && Date.parse(who.appCred.expiresAt) < expiresAt.getTime()) {
        request.expiresAt = new Date(who.appCred.expiresAt);
      }
    }
    return request;
  }
}
