// What the proxy and the middlewares know about an account or a container without listing it:
// existence, counts, metadata, ACLs (Swift's get_account_info / get_container_info). Looked up
// with a pre-authorized HEAD subrequest and kept for the rest of the request (and its
// subrequests) in req.env.infoCache, so one client request costs at most one HEAD of each.
//
//   const info = await getContainerInfo(req, next, account, container);
//   if (info.status === 404) ...;  info.meta['quota-bytes'];  info.readAcl
//
// `next` is the handler below the caller: the lookup must not pass through the caller again.
// Success here says nothing about whether the caller may see the container.
import { discardBody, subrequest, type Handler, type SwiftRequest } from '../pipeline.ts';
import { AUTO_CREATE_ACCOUNT_PREFIX } from '../constraints.ts';
import { splitMetadata } from './headers.ts';
import { isSuccess } from './responses.ts';

export interface AccountInfo {
  /** HTTP status of the lookup: 2xx exists, 404 missing, 410 deleted, 5xx nobody could say */
  status: number;
  containerCount: number;
  objectCount: number;
  bytes: number;
  /** X-Account-Meta-<name>, by lower-case <name> */
  meta: Record<string, string>;
  /** X-Account-Sysmeta-<name>, by lower-case <name> */
  sysmeta: Record<string, string>;
  /** false when the 2xx was the proxy's stand-in for an autocreate account that has no database yet */
  reallyExists: boolean;
}

export interface ContainerInfo {
  /** as for accounts; 0 when the account itself is missing (so no container either) */
  status: number;
  objectCount: number;
  bytes: number;
  meta: Record<string, string>;
  sysmeta: Record<string, string>;
  /** X-Container-Read / X-Container-Write, as stored */
  readAcl?: string;
  writeAcl?: string;
  syncKey?: string;
  syncTo?: string;
  /** X-Versions-Location / X-History-Location: where legacy versioning keeps old copies */
  versionsLocation?: string;
  historyLocation?: string;
  storagePolicy: number;
  cors: { allowOrigin?: string; exposeHeaders?: string; maxAge?: string };
}

const int = (value: string | undefined) => (value && /^\d+$/.test(value) ? Number(value) : 0);

export function accountInfoFromHeaders(status: number, headers: Record<string, string>): AccountInfo {
  const { meta, sysmeta, other } = splitMetadata('account', headers);
  return {
    status,
    containerCount: int(other['x-account-container-count']),
    objectCount: int(other['x-account-object-count']),
    bytes: int(other['x-account-bytes-used']),
    meta,
    sysmeta,
    reallyExists: isSuccess(status) && other['x-backend-fake-account-listing'] !== 'yes',
  };
}

export function containerInfoFromHeaders(status: number, headers: Record<string, string>): ContainerInfo {
  const { meta, sysmeta, other } = splitMetadata('container', headers);
  return {
    status,
    objectCount: int(other['x-container-object-count']),
    bytes: int(other['x-container-bytes-used']),
    meta,
    sysmeta,
    readAcl: other['x-container-read'],
    writeAcl: other['x-container-write'],
    syncKey: other['x-container-sync-key'],
    syncTo: other['x-container-sync-to'],
    versionsLocation: other['x-versions-location'],
    historyLocation: other['x-history-location'],
    storagePolicy: int(other['x-backend-storage-policy-index']),
    cors: {
      allowOrigin: meta['access-control-allow-origin'],
      exposeHeaders: meta['access-control-expose-headers'],
      maxAge: meta['access-control-max-age'],
    },
  };
}

const cacheKey = (account: string, container?: string) => (container === undefined ? `account/${account}` : `container/${account}/${container}`);

function cache(req: SwiftRequest): Map<string, unknown> {
  req.env.infoCache ??= new Map();
  return req.env.infoCache;
}

/** Only answers that say what is there are worth keeping; a 503 is asked again. */
const cacheable = (status: number) => isSuccess(status) || status === 404 || status === 410;

/** Records what a HEAD or GET of an account (container undefined) or container answered. */
export function setInfoCache(req: SwiftRequest, account: string, container: string | undefined, status: number, headers: Record<string, string>): void {
  if (!cacheable(status)) return;
  const info = container === undefined ? accountInfoFromHeaders(status, headers) : containerInfoFromHeaders(status, headers);
  cache(req).set(cacheKey(account, container), info);
}

/** Forgets an account or container after a request that changed it. */
export function clearInfoCache(req: SwiftRequest, account: string, container?: string): void {
  cache(req).delete(cacheKey(account, container));
}

function cached<T>(req: SwiftRequest, key: string): T | undefined {
  const info = cache(req).get(key) as T | undefined;
  return info && structuredClone(info);
}

/** HEADs the account or container; the answer lands in the cache when it says anything lasting. */
async function lookUp(req: SwiftRequest, next: Handler, account: string, container: string | undefined, source: string): Promise<number> {
  const path = container === undefined ? `/v1/${account}` : `/v1/${account}/${container}`;
  const res = await next(subrequest(req, { method: 'HEAD', path, headers: {}, preauthorized: true, source }));
  discardBody(res);
  // The proxy fills the cache itself while answering (before it hides the owner-only headers);
  // an answer from elsewhere is taken as it came.
  if (!cache(req).has(cacheKey(account, container))) setInfoCache(req, account, container, res.status, res.headers);
  return res.status;
}

export async function getAccountInfo(req: SwiftRequest, next: Handler, account: string): Promise<AccountInfo> {
  const key = cacheKey(account);
  const status = cache(req).has(key) ? 0 : await lookUp(req, next, account, undefined, 'GET_ACCOUNT_INFO');
  return cached<AccountInfo>(req, key) ?? accountInfoFromHeaders(status, {});
}

export async function getContainerInfo(req: SwiftRequest, next: Handler, account: string, container: string): Promise<ContainerInfo> {
  const key = cacheKey(account, container);
  if (cache(req).has(key)) return cached<ContainerInfo>(req, key)!;
  // No account, no container; the cluster's own accounts ('.expiring_objects') always exist.
  if (!account.startsWith(AUTO_CREATE_ACCOUNT_PREFIX)) {
    const accountInfo = await getAccountInfo(req, next, account);
    if (!isSuccess(accountInfo.status)) {
      // 0: "no such container" without a container server's word for it; a 5xx stays one
      return containerInfoFromHeaders(accountInfo.status >= 500 ? accountInfo.status : 0, {});
    }
  }
  const status = await lookUp(req, next, account, container, 'GET_CONTAINER_INFO');
  return cached<ContainerInfo>(req, key) ?? containerInfoFromHeaders(status, {});
}
