// Issuing and validating tokens: who the token says the caller is, on which scope, with which
// roles now (roles are re-derived at every validation, as Keystone's Fernet tokens are), and
// whether a revocation event or a disabled user, project or domain has voided it.
// Validations are cached per token and identity generation: any write anywhere in identity
// makes every cached answer stale.
import type { RequestContext } from '../../core/auth/index.ts';
import { fromDbBool } from '../../core/db/index.ts';

import type { IdentityStore } from '../db/store.ts';
import { getDomainRow, getProjectRow, getUserRow } from '../db/lookups.ts';
import { effectiveRoles, type EffectiveRole, type Scope } from '../assignment/effective-roles.ts';
import type { ServiceCatalog, CatalogEntry, CatalogScope } from '../catalog/service-catalog.ts';
import type { IdentitySettings } from '../settings.ts';
import { InvalidToken, TokenExpired, type TokenData, type TokenProvider, type IssueRequest } from './token-provider.ts';
import { RevocationList, recordRevocation, type RevocationMatch } from './revocation.ts';
import { formatTime } from '../time.ts';

export interface ValidatedToken {
  token: string;
  data: TokenData;
  context: RequestContext;
  /** the token document without its catalog */
  body: Record<string, unknown>;
}

/** The token is not (or no longer) valid: garbage, expired, revoked, or its subject is gone or disabled. */
export class TokenNotValid extends Error {}

const CACHE_LIMIT = 10_000;

export class TokenService {
  private readonly revocations: RevocationList;
  private readonly cache = new Map<string, { generation: number; validated: ValidatedToken }>();

  constructor(
    private readonly store: IdentityStore,
    private readonly provider: TokenProvider,
    private readonly catalog: ServiceCatalog,
    private readonly settings: IdentitySettings,
  ) {
    this.revocations = new RevocationList(store.db);
  }

  /** The token's meaning now; throws TokenNotValid. */
  async validate(token: string, opts: { allowExpired?: boolean } = {}): Promise<ValidatedToken> {
    let data: TokenData;
    try {
      data = this.provider.validate(token);
    } catch (err) {
      const windowMs = this.settings.allowExpiredWindow * 1000;
      if (err instanceof TokenExpired && opts.allowExpired && err.data.expiresAt.getTime() + windowMs > Date.now()) {
        data = err.data;
      } else if (err instanceof InvalidToken) {
        throw new TokenNotValid(err instanceof TokenExpired ? 'The token has expired.' : 'The token is not valid.');
      } else throw err;
    }
    const generation = await this.store.generation();
    const hit = this.cache.get(token);
    if (hit && hit.generation === generation) return hit.validated;

    await this.revocations.refresh(generation);
    const validated = await this.describe(token, data);
    if (this.revocations.isRevoked({ ...validated.context, roleIds: validated.context.roleIds, issuedAt: data.issuedAt })) {
      throw new TokenNotValid('The token has been revoked.');
    }
    if (this.cache.size >= CACHE_LIMIT) this.cache.delete(this.cache.keys().next().value!);
    this.cache.set(token, { generation, validated });
    return validated;
  }

  /** Issues a token for an authenticated user on a scope, with its roles checked now. */
  async issue(request: IssueRequest): Promise<ValidatedToken> {
    // A token issued in the same second as a revocation event would look older than it (Fernet
    // times have second precision); wait out that second rather than issue a revoked token.
    await this.revocations.refresh(await this.store.generation());
    const newest = this.revocations.newestSecond();
    const now = Date.now();
    if (Math.floor(now / 1000) <= newest) await new Promise((r) => setTimeout(r, (newest + 1) * 1000 - now + 5));
    const { token, data } = this.provider.issue(request);
    return this.validate(token);
  }

  /** The catalog with its URLs filled in for this user and project. */
  async catalogFor(scope: CatalogScope): Promise<CatalogEntry[]> {
    return this.catalog.get(await this.store.generation(), scope);
  }

  /** Revokes every token matching `match`, inside the caller's transaction. */
  revokeMatching = (tx: Parameters<typeof recordRevocation>[0], match: RevocationMatch) =>
    recordRevocation(tx, match, this.settings.tokenExpiration);

  /** Revokes one token (and nothing else): DELETE /v3/auth/tokens. */
  async revoke(validated: ValidatedToken): Promise<void> {
    await this.store.write((tx) => this.revokeMatching(tx, { audit_id: validated.data.auditIds[0] }));
  }

  /** The effective roles on a scope, for auth (scope checks) and validation. */
  rolesOn(userId: string, scope: Scope): Promise<EffectiveRole[]> {
    return effectiveRoles(this.store.db, userId, scope);
  }

  private async describe(token: string, data: TokenData): Promise<ValidatedToken> {
    const db = this.store.db;
    const user = await getUserRow(db, data.userId);
    if (!user || !fromDbBool(user.enabled)) throw new TokenNotValid('The token\'s user is disabled or gone.');
    const userDomain = await getDomainRow(db, user.domain_id);
    if (!userDomain || !fromDbBool(userDomain.enabled)) throw new TokenNotValid('The token\'s user domain is disabled or gone.');

    const body: Record<string, unknown> = {
      methods: data.methods,
      user: {
        domain: { id: userDomain.id, name: userDomain.name },
        id: user.id,
        name: user.name,
        password_expires_at: user.password_expires_at ? formatTime(user.password_expires_at) : null,
      },
      audit_ids: data.auditIds,
      expires_at: formatTime(data.expiresAt),
      issued_at: formatTime(data.issuedAt),
    };
    const context: RequestContext = {
      token,
      userId: user.id,
      userName: user.name,
      userDomainId: userDomain.id,
      userDomainName: userDomain.name,
      roles: [],
      roleIds: [],
      methods: data.methods,
      auditIds: data.auditIds,
      expiresAt: formatTime(data.expiresAt),
    };

    let roles: EffectiveRole[] = [];
    if (data.projectId) {
      const project = await getProjectRow(db, data.projectId);
      const projectDomain = project && (await getDomainRow(db, project.domain_id));
      if (!project || !fromDbBool(project.enabled) || !projectDomain || !fromDbBool(projectDomain.enabled)) {
        throw new TokenNotValid('The token\'s project is disabled or gone.');
      }
      roles = await this.rolesOn(user.id, { projectId: project.id });
      if (data.appCredId) roles = await this.appCredRoles(data.appCredId, roles);
      body.project = { domain: { id: projectDomain.id, name: projectDomain.name }, id: project.id, name: project.name };
      body.is_domain = false;
      Object.assign(context, {
        projectId: project.id,
        projectName: project.name,
        projectDomainId: projectDomain.id,
        projectDomainName: projectDomain.name,
      });
    } else if (data.domainId) {
      const domain = await getDomainRow(db, data.domainId);
      if (!domain || !fromDbBool(domain.enabled)) throw new TokenNotValid('The token\'s domain is disabled or gone.');
      roles = await this.rolesOn(user.id, { domainId: domain.id });
      body.domain = { id: domain.id, name: domain.name };
      Object.assign(context, { domainId: domain.id, domainName: domain.name });
    } else if (data.system) {
      roles = await this.rolesOn(user.id, { system: 'all' });
      body.system = { all: true };
      context.system = 'all';
    }
    const scoped = Boolean(data.projectId || data.domainId || data.system);
    if (scoped && roles.length === 0) throw new TokenNotValid('The token\'s user has no role on its scope any more.');
    if (scoped) body.roles = roles.map((r) => ({ id: r.id, name: r.name }));
    if (data.appCredId) {
      const cred = await db.selectFrom('application_credential').select(['id', 'name', 'unrestricted']).where('id', '=', data.appCredId).executeTakeFirst();
      if (!cred) throw new TokenNotValid('The token\'s application credential is gone.');
      body.application_credential = { id: cred.id, name: cred.name, restricted: !fromDbBool(cred.unrestricted) };
      context.applicationCredentialId = cred.id;
    }
    context.roles = roles.map((r) => r.name);
    context.roleIds = roles.map((r) => r.id);
    return { token, data, context, body };
  }

  /** An application credential's roles that its user still holds on the project. */
  private async appCredRoles(appCredId: string, userRoles: EffectiveRole[]): Promise<EffectiveRole[]> {
    const rows = await this.store.db.selectFrom('application_credential_role').select('role_id')
      .where('application_credential_id', '=', appCredId).execute();
    const granted = new Set(rows.map((r) => r.role_id));
    return userRoles.filter((r) => granted.has(r.id));
  }
}

