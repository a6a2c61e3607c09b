// Who may do what in the object store: keystonemiddleware's auth_token (in its
// delay_auth_decision mode) and Swift's keystoneauth in one middleware.
//
// A token (X-Auth-Token, or the older X-Storage-Token) is validated against Identity; an
// invalid one counts as no token, since a public container's objects are readable without one.
// The decision itself is left to env.authorize, which the proxy calls once it knows the
// container's ACL:
//   - the ResellerAdmin role may do anything anywhere, and alone may PUT or DELETE an account;
//   - a role in operator_roles on the project whose id makes the account (AUTH_<project id>)
//     owns the account: everything in it, ACLs and metadata included;
//   - otherwise the container's ACL decides: `<project>:<user>` grantees (ids, `*`, or names
//     when everything involved is in the default domain), `.r:` referrers for anonymous object
//     reads (listings only with `.rlistings`), and role names within the account's own project.
// Refused: 401 without a caller (with WWW-Authenticate naming Identity), 403 with one.
// Owner-only headers (ACLs, sync and temp-URL keys) are dropped from requests of anyone else
// and hidden from their responses.
import type { Logger } from 'pino';
import type { RequestContext } from '../../core/auth/index.ts';
import { IdentityUnavailableError, InvalidTokenError } from '../../core/auth/index.ts';
import { parseSwiftPath, type SwiftPath } from '../path.ts';
import { textResponse, type Handler, type Middleware, type SwiftRequest, type SwiftResponse } from '../pipeline.ts';
import { OWNER_HEADERS } from '../proxy/headers.ts';
import { getAccountInfo } from '../proxy/info.ts';
import { AclError, cleanAcl, parseAcl, referrerAllowed } from './acl.ts';
import { errorPage } from './responses.ts';

export interface KeystoneAuthOptions {
  validator: { validate(token: string): Promise<RequestContext> };
  /** where a client gets a token, sent in WWW-Authenticate on 401 */
  authUrl: string;
  /** accounts are <resellerPrefix><project id>; default AUTH_ */
  resellerPrefix?: string;
  /** roles that own their project's account; default admin, member */
  operatorRoles?: readonly string[];
  /** the role allowed into every account; default ResellerAdmin */
  resellerAdminRole?: string;
  /** names in ACLs are honoured only for users, projects and accounts of this domain */
  defaultDomainId?: string;
  logger?: Logger;
}

const DOMAIN_KEY = 'project-domain-id';
/**
 * The domain of the project an account belongs to, kept as account system metadata so that
 * names in ACLs can be trusted (project names are unique only within a domain). Shown to
 * clients as X-Account-Project-Domain-Id.
 */
export const DOMAIN_SYSMETA = `x-account-sysmeta-${DOMAIN_KEY}`;
const DOMAIN_HEADER = 'x-account-project-domain-id';

/** What keystone-auth puts in RequestEnv besides identity and authorize. */
declare module '../pipeline.ts' {
  interface RequestEnv {
    /** set by authorize when the caller owns the account (Swift's swift_owner): owner headers are theirs to set and see */
    swiftOwner?: boolean;
    /** the caller holds the reseller admin role (Swift's reseller_request) */
    resellerRequest?: boolean;
  }
}

export function keystoneAuth(opts: KeystoneAuthOptions): Middleware {
  const prefix = opts.resellerPrefix ?? 'AUTH_';
  const operatorRoles = new Set((opts.operatorRoles ?? ['admin', 'member']).map((r) => r.toLowerCase()));
  const resellerAdminRole = (opts.resellerAdminRole ?? 'ResellerAdmin').toLowerCase();
  const defaultDomain = opts.defaultDomainId ?? 'default';
  const wwwAuthenticate = `Keystone uri="${opts.authUrl}"`;

  const unauthorized = () => errorPage(401, { 'www-authenticate': wwwAuthenticate });
  const forbidden = () => errorPage(403);
  const notFound = () => errorPage(404);

  const isResellerAdmin = (who: RequestContext) => who.roles.some((r) => r.toLowerCase() === resellerAdminRole);
  const ownAccount = (who: RequestContext, account: string) => who.projectId !== undefined && account === `${prefix}${who.projectId}`;
  /** An operator role on the account's own project (keystoneauth's operator_roles). */
  const operates = (who: RequestContext, account: string) => ownAccount(who, account) && who.roles.some((r) => operatorRoles.has(r.toLowerCase()));
  const isOwner = (who: RequestContext | undefined, path: SwiftPath | undefined) =>
    who !== undefined && path !== undefined && (isResellerAdmin(who) || operates(who, path.account));
  const inDefaultDomain = (id: string | undefined) => id === undefined || id === defaultDomain;

  /**
   * Access that needs no identity: a referrer the read ACL lets in. true: allowed; false: the
   * referrer is let in but this is a listing and the ACL has no .rlistings; undefined: not
   * decided here.
   */
  function byReferrer(req: SwiftRequest, path: SwiftPath, referrers: string[], groups: string[]): boolean | undefined {
    if (!referrerAllowed(req.headers.referer, referrers)) return undefined;
    return path.object !== undefined || groups.includes('.rlistings');
  }

  /** A `<project>:<user>` grantee naming the caller (by id or `*`, and by name when `names`). */
  function grantedByName(who: RequestContext, groups: string[], names: boolean): boolean {
    const projects = ['*', who.projectId, names ? who.projectName : undefined].filter((p) => p !== undefined);
    const users = ['*', who.userId, names ? who.userName : undefined].filter((u) => u !== undefined);
    return projects.some((p) => users.some((u) => groups.includes(`${p}:${u}`)));
  }

  function authorizeIdentity(who: RequestContext, accountDomain: AccountDomain | undefined, req: SwiftRequest, acl: string | undefined): SwiftResponse | undefined {
    delete req.env.swiftOwner;
    if (req.method === 'OPTIONS') return undefined;
    const path = parseSwiftPath(req.path);
    if (!path) return notFound();
    if (isResellerAdmin(who)) {
      req.env.swiftOwner = true;
      return undefined;
    }
    // Making and removing accounts is the reseller's business, not the project's.
    if (path.container === undefined && (req.method === 'PUT' || req.method === 'DELETE')) return forbidden();
    // The owner first: an ACL that would let them in too must not hide that they own it.
    if (operates(who, path.account)) {
      req.env.swiftOwner = true;
      return undefined;
    }
    const { referrers, groups } = parseAcl(acl);
    if (groups.length > 0) {
      const names = inDefaultDomain(who.userDomainId) && inDefaultDomain(who.projectDomainId) &&
        (ownAccount(who, path.account) || (accountDomain?.exists === true && inDefaultDomain(accountDomain.domainId)));
      if (grantedByName(who, groups, names)) return undefined;
    }
    const referred = byReferrer(req, path, referrers, groups);
    if (referred) return undefined;
    if (!ownAccount(who, path.account)) return forbidden();
    if (referred === false) return forbidden();
    const granted = new Set(groups.map((g) => g.toLowerCase()));
    return who.roles.some((r) => granted.has(r.toLowerCase())) ? undefined : forbidden();
  }

  function authorizeAnonymous(req: SwiftRequest, acl: string | undefined): SwiftResponse | undefined {
    const path = parseSwiftPath(req.path);
    if (!path) return notFound();
    if (req.method === 'OPTIONS') return undefined;
    if (!path.account.startsWith(prefix)) return unauthorized();
    const { referrers, groups } = parseAcl(acl);
    return byReferrer(req, path, referrers, groups) ? undefined : unauthorized();
  }

  return (next: Handler): Handler => async (req) => {
    // Only this middleware says which domain an account's project is in.
    delete req.headers[DOMAIN_SYSMETA];
    // tempurl and the like, above us, have settled this request already.
    if (req.env.authorizeOverride) return withAuthHeaders(await next(req), false, wwwAuthenticate);

    const token = req.headers['x-auth-token'] || req.headers['x-storage-token'];
    // Without a token, a caller a middleware above has established stands (s3token: the
    // signer of an S3 request, as Identity named them).
    let who: RequestContext | undefined = token ? undefined : req.env.identity;
    if (token) {
      try {
        who = await opts.validator.validate(token);
      } catch (err) {
        if (err instanceof IdentityUnavailableError) {
          opts.logger?.error({ err }, 'object-store: identity is unavailable, refusing a request with a token');
          return textResponse(503, 'The Keystone service is temporarily unavailable.');
        }
        if (!(err instanceof InvalidTokenError)) throw err;
        // else: as anonymous, as keystonemiddleware's delay_auth_decision has it
      }
    }

    const path = parseSwiftPath(req.path);
    const owner = isOwner(who, path);
    if (owner) {
      const bad = path?.container !== undefined && path.object === undefined && (req.method === 'PUT' || req.method === 'POST') ? cleanAclHeaders(req) : undefined;
      if (bad) return bad;
    } else {
      for (const name of OWNER_HEADERS) delete req.headers[name];
    }

    if (who) {
      if (path) recordAccountDomain(req, path, who, ownAccount(who, path.account));
      const accountDomain = path && needsAccountDomain(req, who, path) ? await accountDomainOf(req, path.account, next) : undefined;
      req.env.identity = who;
      if (isResellerAdmin(who)) req.env.resellerRequest = true;
      const caller = who;
      req.env.authorize = (r, acl) => authorizeIdentity(caller, accountDomain, r, acl);
    } else {
      req.env.authorize = authorizeAnonymous;
    }
    return withAuthHeaders(await next(req), owner, wwwAuthenticate);
  };

  /** Whether name grantees could apply and only the account's domain is unknown. */
  function needsAccountDomain(req: SwiftRequest, who: RequestContext, path: SwiftPath): boolean {
    return req.method !== 'OPTIONS' && path.container !== undefined && path.account.startsWith(prefix) &&
      !ownAccount(who, path.account) && !isResellerAdmin(who) && inDefaultDomain(who.userDomainId) && inDefaultDomain(who.projectDomainId);
  }
}

interface AccountDomain {
  exists: boolean;
  domainId?: string;
}

/** The account's recorded project domain, from its info (looked up once per request, shared with the proxy). */
async function accountDomainOf(req: SwiftRequest, account: string, next: Handler): Promise<AccountDomain> {
  const info = await getAccountInfo(req, next, account);
  // an autocreate account that was never written is only the proxy's stand-in
  return { exists: info.reallyExists, domainId: info.sysmeta[DOMAIN_KEY] };
}

/**
 * A request that may create or update the caller's own account (account PUT/POST, or a
 * container PUT that auto-creates it) records the project's domain on it.
 */
function recordAccountDomain(req: SwiftRequest, path: SwiftPath, who: RequestContext, own: boolean): void {
  if (!own || who.projectDomainId === undefined || path.object !== undefined) return;
  const creates = path.container === undefined ? req.method === 'PUT' || req.method === 'POST' : req.method === 'PUT';
  if (creates) req.headers[DOMAIN_SYSMETA] = who.projectDomainId;
}

/** The ACL headers of a container PUT/POST in their canonical form; a 400 when one is malformed. */
function cleanAclHeaders(req: SwiftRequest): SwiftResponse | undefined {
  for (const name of ['x-container-read', 'x-container-write']) {
    const value = req.headers[name];
    if (value === undefined) continue;
    try {
      req.headers[name] = cleanAcl(name, value);
    } catch (err) {
      if (err instanceof AclError) return textResponse(400, err.message);
      throw err;
    }
  }
  return undefined;
}

/** Hides owner headers from others, names the account's domain, and says where to log in on a 401. */
function withAuthHeaders(res: SwiftResponse, owner: boolean, wwwAuthenticate: string): SwiftResponse {
  if (!owner) for (const name of OWNER_HEADERS) delete res.headers[name];
  const domain = res.headers[DOMAIN_SYSMETA];
  if (domain !== undefined) {
    res.headers[DOMAIN_HEADER] = domain;
    delete res.headers[DOMAIN_SYSMETA];
  }
  if (res.status === 401) res.headers['www-authenticate'] = wwwAuthenticate;
  return res;
}
