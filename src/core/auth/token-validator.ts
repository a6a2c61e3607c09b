// How a service learns who called it: the caller's X-Auth-Token is validated against Identity
// (GET /v3/auth/tokens with the service's own token), as keystonemiddleware does. Answers are
// cached, bounded in count and never past the token's expiry nor past `cacheSeconds`, so a
// revoked token stops working within that time everywhere, and at once in Identity itself.
import type { RequestContext } from './context.ts';

export interface ServiceCredentials {
  username: string;
  password: string;
  userDomainName?: string;
  projectName: string;
  projectDomainName?: string;
}

export interface TokenValidatorOptions {
  /** e.g. http://127.0.0.1:5000 (with or without /v3) */
  identityUrl: string;
  service: ServiceCredentials;
  cacheSize?: number;
  cacheSeconds?: number;
}

export class InvalidTokenError extends Error {}
export class IdentityUnavailableError extends Error {}

interface Cached {
  context: RequestContext;
  until: number;
}

/** Builds the request context from a Keystone token document. */
export function contextFromToken(token: string, doc: any): RequestContext {
  const t = doc.token ?? doc;
  return {
    token,
    userId: t.user.id,
    userName: t.user.name,
    userDomainId: t.user.domain.id,
    userDomainName: t.user.domain.name,
    projectId: t.project?.id,
    projectName: t.project?.name,
    projectDomainId: t.project?.domain?.id,
    projectDomainName: t.project?.domain?.name,
    domainId: t.domain?.id,
    domainName: t.domain?.name,
    system: t.system?.all ? 'all' : undefined,
    roles: (t.roles ?? []).map((r: { name: string }) => r.name),
    roleIds: (t.roles ?? []).map((r: { id: string }) => r.id),
    methods: t.methods ?? [],
    auditIds: t.audit_ids ?? [],
    expiresAt: t.expires_at,
    applicationCredentialId: t.application_credential?.id,
  };
}

export class TokenValidator {
  private readonly base: string;
  private readonly cache = new Map<string, Cached>();
  private serviceToken?: { token: string; until: number };
  private readonly cacheSize: number;
  private readonly cacheMs: number;

  constructor(private readonly opts: TokenValidatorOptions) {
    this.base = opts.identityUrl.replace(/\/+$/, '').replace(/\/v3$/, '');
    this.cacheSize = opts.cacheSize ?? 10_000;
    this.cacheMs = (opts.cacheSeconds ?? 30) * 1000;
  }

  async validate(token: string): Promise<RequestContext> {
    const now = Date.now();
    const hit = this.cache.get(token);
    if (hit && hit.until > now) return hit.context;
    if (hit) this.cache.delete(token);

    let res = await this.fetchValidation(token, await this.ownToken());
    if (res.status === 401) {
      // Our own token went stale (revoked, keys rotated): get a new one once.
      this.serviceToken = undefined;
      res = await this.fetchValidation(token, await this.ownToken());
    }
    if (res.status === 404 || res.status === 401) throw new InvalidTokenError('The token is not valid.');
    if (!res.ok) throw new IdentityUnavailableError(`identity answered ${res.status} validating a token`);
    const context = contextFromToken(token, await res.json());
    const until = Math.min(now + this.cacheMs, Date.parse(context.expiresAt));
    if (this.cache.size >= this.cacheSize) this.cache.delete(this.cache.keys().next().value!);
    this.cache.set(token, { context, until });
    return context;
  }

  private async fetchValidation(subject: string, own: string): Promise<Response> {
    try {
      return await fetch(`${this.base}/v3/auth/tokens?nocatalog`, {
        headers: { 'x-auth-token': own, 'x-subject-token': subject, accept: 'application/json' },
      });
    } catch (err) {
      throw new IdentityUnavailableError(`identity at ${this.base} is unreachable: ${(err as Error).message}`);
    }
  }

  /**
   * The service user's own token, for the other calls a service makes to Identity as itself
   * (the object store's POST /v3/s3tokens); `renew` after Identity refused the one it had.
   */
  ownServiceToken(renew = false): Promise<string> {
    if (renew) this.serviceToken = undefined;
    return this.ownToken();
  }

  /** The service user's own token, renewed a minute before it expires. */
  private async ownToken(): Promise<string> {
    if (this.serviceToken && this.serviceToken.until > Date.now()) return this.serviceToken.token;
    const s = this.opts.service;
    const body = {
      auth: {
        identity: { methods: ['password'], password: { user: { name: s.username, password: s.password, domain: { name: s.userDomainName ?? 'Default' } } } },
        scope: { project: { name: s.projectName, domain: { name: s.projectDomainName ?? 'Default' } } },
      },
    };
    let res: Response;
    try {
      res = await fetch(`${this.base}/v3/auth/tokens?nocatalog`, {
        method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body),
      });
    } catch (err) {
      throw new IdentityUnavailableError(`identity at ${this.base} is unreachable: ${(err as Error).message}`);
    }
    if (res.status !== 201) throw new IdentityUnavailableError(`the service user could not authenticate (identity answered ${res.status})`);
    const doc = (await res.json()) as { token: { expires_at: string } };
    const token = res.headers.get('x-subject-token')!;
    this.serviceToken = { token, until: Date.parse(doc.token.expires_at) - 60_000 };
    return token;
  }
}

/** The [<service>] options every service uses to check tokens as its own service user. */
export interface ServiceAuthOptions {
  auth_url: string;
  service_username: string;
  service_password: string;
  service_project: string;
  token_cache_seconds: number;
}

export function serviceTokenValidator(s: ServiceAuthOptions): TokenValidator {
  return new TokenValidator({
    identityUrl: s.auth_url,
    service: { username: s.service_username, password: s.service_password, projectName: s.service_project },
    cacheSeconds: s.token_cache_seconds,
  });
}
