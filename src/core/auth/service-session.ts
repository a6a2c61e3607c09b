// A service's own session with Identity (what keystoneauth's session is to an OpenStack
// service): it logs in as the service user, keeps the token and its catalog, logs in again a
// minute before the token expires or when told the token was refused, and finds other
// services' endpoints in that catalog. One login at a time: concurrent callers share it.
import { IdentityUnavailableError } from './errors.ts';

export interface ServiceCredentials {
  username: string;
  password: string;
  userDomainName?: string;
  projectName: string;
  projectDomainName?: string;
}

export type EndpointInterface = 'public' | 'internal' | 'admin';

export interface EndpointQuery {
  /** the catalog's service type, e.g. 'object-store' */
  type: string;
  interface?: EndpointInterface;
  /** any region when absent */
  region?: string;
}

/** The catalog lists no endpoint for the query (keystoneauth's EndpointNotFound). */
export class EndpointNotFoundError extends Error {
  override name = 'EndpointNotFoundError';
}

interface CatalogEntry {
  type: string;
  endpoints: { interface: string; region?: string | null; region_id?: string | null; url: string }[];
}

interface Login {
  token: string;
  /** when to log in again: a minute before the token expires */
  renewAt: number;
  catalog: CatalogEntry[];
}

const RENEW_MARGIN_MS = 60_000;

export class ServiceSession {
  private readonly base: string;
  private current?: Login;
  private pending?: Promise<Login>;

  constructor(
    /** e.g. http://127.0.0.1:5000 (with or without /v3) */
    identityUrl: string,
    private readonly credentials: ServiceCredentials,
  ) {
    this.base = identityUrl.replace(/\/+$/, '').replace(/\/v3$/, '');
  }

  /** The service user's token; `renew` after a service refused the one it had. */
  async token(renew = false): Promise<string> {
    return (await this.login(renew)).token;
  }

  /**
   * The URL of the first endpoint matching `query` in the service user's catalog. A service
   * registered after the last login is found too: a miss logs in again once before failing.
   */
  async endpoint(query: EndpointQuery): Promise<string> {
    const found = findEndpoint((await this.login(false)).catalog, query) ?? findEndpoint((await this.login(true)).catalog, query);
    if (found) return found;
    const where = [query.interface ?? 'public', query.region ? `in region ${query.region}` : ''].filter(Boolean).join(' ');
    throw new EndpointNotFoundError(`the catalog has no ${where} endpoint of service type ${query.type}`);
  }

  private login(renew: boolean): Promise<Login> {
    if (renew) this.current = undefined;
    if (this.current && this.current.renewAt > Date.now()) return Promise.resolve(this.current);
    this.pending ??= this.passwordLogin().then(
      (login) => {
        this.pending = undefined;
        this.current = login;
        return login;
      },
      (err: unknown) => {
        this.pending = undefined;
        throw err;
      },
    );
    return this.pending;
  }

  private async passwordLogin(): Promise<Login> {
    const c = this.credentials;
    const body = {
      auth: {
        identity: { methods: ['password'], password: { user: { name: c.username, password: c.password, domain: { name: c.userDomainName ?? 'Default' } } } },
        scope: { project: { name: c.projectName, domain: { name: c.projectDomainName ?? 'Default' } } },
      },
    };
    let res: Response;
    try {
      res = await fetch(`${this.base}/v3/auth/tokens`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    } catch (err) {
      throw new IdentityUnavailableError(`identity at ${this.base} is unreachable: ${(err as Error).message}`);
    }
    if (res.status !== 201) {
      await res.body?.cancel();
      throw new IdentityUnavailableError(`the service user could not authenticate (identity answered ${res.status})`);
    }
    const doc = (await res.json()) as { token: { expires_at: string; catalog?: CatalogEntry[] } };
    return {
      token: res.headers.get('x-subject-token')!,
      renewAt: Date.parse(doc.token.expires_at) - RENEW_MARGIN_MS,
      catalog: doc.token.catalog ?? [],
    };
  }
}

function findEndpoint(catalog: CatalogEntry[], query: EndpointQuery): string | undefined {
  const wanted = query.interface ?? 'public';
  for (const service of catalog) {
    if (service.type !== query.type) continue;
    for (const endpoint of service.endpoints ?? []) {
      if (endpoint.interface !== wanted) continue;
      if (query.region && (endpoint.region_id ?? endpoint.region) !== query.region) continue;
      return endpoint.url;
    }
  }
  return undefined;
}
