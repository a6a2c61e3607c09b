// How a service learns who called it: the caller's X-Auth-Token is validated against Identity
// (GET /v3/auth/tokens with the service's own token), as keystonemiddleware does. Answers are
// cached, bounded in count and never past the token's expiry nor past `cacheSeconds`, so a
// revoked token stops working within that time everywhere, and at once in Identity itself.
import type { RequestContext } from './context.ts';
import { IdentityUnavailableError, InvalidTokenError } from './errors.ts';
import { ServiceSession, type ServiceCredentials } from './service-session.ts';

export interface TokenValidatorOptions {
  /** e.g. http://127.0.0.1:5000 (with or without /v3) */
  identityUrl: string;
  service: ServiceCredentials;
  cacheSize?: number;
  cacheSeconds?: number;
}

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
  /** the service user's own login, also for the other calls a service makes as itself (the object store's POST /v3/s3tokens, the image service's swift store) */
  readonly session: ServiceSession;
  private readonly cacheSize: number;
  private readonly cacheMs: number;

  constructor(private readonly opts: TokenValidatorOptions) {
    this.base = opts.identityUrl.replace(/\/+$/, '').replace(/\/v3$/, '');
    this.cacheSize = opts.cacheSize ?? 10_000;
    this.cacheMs = (opts.cacheSeconds ?? 30) * 1000;
    this.session = new ServiceSession(opts.identityUrl, opts.service);
  }

  async validate(token: string): Promise<RequestContext> {
    const now = Date.now();
    const hit = this.cache.get(token);
    if (hit && hit.until > now) return hit.context;
    if (hit) this.cache.delete(token);

    let res = await this.fetchValidation(token, await this.session.token());
    if (res.status === 401) {
      // Our own token went stale (revoked, keys rotated): get a new one once.
      res = await this.fetchValidation(token, await this.session.token(true));
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
