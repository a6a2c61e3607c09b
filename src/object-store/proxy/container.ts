// /v1/<account>/<container>: listings, metadata and ACLs, creation and deletion (Swift's
// ContainerController). Reads are authorized against the container's X-Container-Read once it
// is known; changes to a container are its owner's alone.
import {
  checkMetadata, listingLimit, nameBytes, AUTO_CREATE_ACCOUNT_PREFIX, CONTAINER_LISTING_LIMIT, MAX_CONTAINER_NAME_LENGTH,
} from '../constraints.ts';
import { discardBody, textResponse, type SwiftRequest, type SwiftResponse } from '../pipeline.ts';
import { isTrue } from '../storage/header-families.ts';
import { autocreateAccount } from './account.ts';
import { authorize, type ProxyContext } from './context.ts';
import { addUpdateTarget, backendHeaders, dropOwnerHeaders, forwardedHeaders, isOwner } from './headers.ts';
import { clearInfoCache, getAccountInfo, setInfoCache } from './info.ts';
import { quorumWrite } from './quorum.ts';
import { readFromNodes } from './read.ts';
import { badRequest, isSuccess, methodNotAllowed, notFound, serviceUnavailable } from './responses.ts';
import { DEFAULT_POLICY } from './storage-policy.ts';

export const CONTAINER_METHODS = ['DELETE', 'GET', 'HEAD', 'POST', 'PUT'];

/**
 * Whether the account exists for real (not just the stand-in an autocreate account answers
 * with); 'unavailable' when no account server answered, which is no reason to say 404.
 */
async function accountState(ctx: ProxyContext, req: SwiftRequest, account: string): Promise<'exists' | 'missing' | 'unavailable'> {
  const info = await getAccountInfo(req, ctx.app, account);
  if (info.status >= 500) return 'unavailable';
  return isSuccess(info.status) && info.reallyExists ? 'exists' : 'missing';
}

/**
 * One header set per container replica, each naming the account server(s) to tell about the
 * change (X-Account-Host/-Device/-Partition), spread so every account replica hears of it.
 */
function withAccountUpdates(ctx: ProxyContext, base: Record<string, string>, count: number, account: string): Record<string, string>[] {
  const { partition, nodes } = ctx.rings().account.getNodes(account);
  const headers = Array.from({ length: count }, () => ({ ...base }));
  nodes.forEach((node, i) => addUpdateTarget(headers[i % count]!, 'account', partition, node));
  return headers;
}

/** The answer when the account is not there to hold a container: 404, or 503 when nobody could say. */
async function missingAccount(ctx: ProxyContext, req: SwiftRequest, account: string): Promise<SwiftResponse | undefined> {
  const state = await accountState(ctx, req, account);
  return state === 'exists' ? undefined : state === 'unavailable' ? serviceUnavailable() : notFound();
}

async function getOrHead(ctx: ProxyContext, req: SwiftRequest, account: string, container: string): Promise<SwiftResponse> {
  const query = new URLSearchParams(req.query);
  if (req.method === 'GET') {
    const limit = listingLimit(query, CONTAINER_LISTING_LIMIT);
    if (typeof limit !== 'number') return limit;
  }
  if (!account.startsWith(AUTO_CREATE_ACCOUNT_PREFIX)) {
    const state = await accountState(ctx, req, account);
    if (state === 'unavailable') return serviceUnavailable();
    if (state === 'missing') return authorize(req) ?? notFound();
  }
  query.set('format', 'json');
  const ring = ctx.rings().container;
  const { partition } = ring.getNodes(account, container);
  const res = await readFromNodes(ctx.client, ring, partition, {
    serverType: 'container',
    method: req.method as 'GET' | 'HEAD',
    path: `/${account}/${container}`,
    headers: backendHeaders(req, { additional: forwardedHeaders(req) }),
    query,
    newest: isTrue(req.headers['x-newest']),
  });
  // Cached before the owner-only headers go: middlewares need the ACLs whoever asks.
  setInfoCache(req, account, container, res.status, res.headers);
  const refused = authorize(req, res.headers['x-container-read']);
  if (refused) {
    discardBody(res);
    return refused;
  }
  if (!isOwner(req)) dropOwnerHeaders(res.headers);
  if (isSuccess(res.status)) {
    if (res.headers['x-backend-storage-policy-index'] === String(DEFAULT_POLICY.index)) res.headers['x-storage-policy'] = DEFAULT_POLICY.name;
  }
  return res;
}

/** X-Storage-Policy on a new container: only the default policy exists here. */
function storagePolicyError(req: SwiftRequest): SwiftResponse | undefined {
  const name = req.headers['x-storage-policy'];
  if (!name || name.toLowerCase() === DEFAULT_POLICY.name.toLowerCase()) return undefined;
  return textResponse(400, `Invalid X-Storage-Policy '${name}'`);
}

async function put(ctx: ProxyContext, req: SwiftRequest, account: string, container: string): Promise<SwiftResponse> {
  const size = nameBytes(container);
  const invalid =
    authorize(req) ??
    checkMetadata(req.headers, 'container') ??
    storagePolicyError(req) ??
    (size > MAX_CONTAINER_NAME_LENGTH ? badRequest(`Container name length of ${size} longer than ${MAX_CONTAINER_NAME_LENGTH}`) : undefined);
  if (invalid) return invalid;
  if (!isOwner(req)) dropOwnerHeaders(req.headers);
  const state = await accountState(ctx, req, account);
  if (state === 'unavailable') return serviceUnavailable();
  if (state === 'missing') {
    if (!ctx.accountAutocreate) return notFound();
    if (!(await autocreateAccount(ctx, req, account))) return serviceUnavailable();
  }
  const ring = ctx.rings().container;
  const { partition, nodes } = ring.getNodes(account, container);
  const base = backendHeaders(req, { transfer: 'container', additional: { 'x-backend-storage-policy-default': String(DEFAULT_POLICY.index) } });
  const res = await quorumWrite(ctx.client, ring, partition, 'PUT', `/${account}/${container}`, withAccountUpdates(ctx, base, nodes.length, account));
  clearInfoCache(req, account, container);
  return res;
}

async function post(ctx: ProxyContext, req: SwiftRequest, account: string, container: string): Promise<SwiftResponse> {
  const invalid = authorize(req) ?? checkMetadata(req.headers, 'container');
  if (invalid) return invalid;
  if (!isOwner(req)) dropOwnerHeaders(req.headers);
  const missing = await missingAccount(ctx, req, account);
  if (missing) return missing;
  const ring = ctx.rings().container;
  const { partition } = ring.getNodes(account, container);
  clearInfoCache(req, account, container);
  return quorumWrite(ctx.client, ring, partition, 'POST', `/${account}/${container}`, backendHeaders(req, { transfer: 'container' }));
}

async function remove(ctx: ProxyContext, req: SwiftRequest, account: string, container: string): Promise<SwiftResponse> {
  const refused = authorize(req);
  if (refused) return refused;
  const missing = await missingAccount(ctx, req, account);
  if (missing) return missing;
  const ring = ctx.rings().container;
  const { partition, nodes } = ring.getNodes(account, container);
  const headers = withAccountUpdates(ctx, backendHeaders(req), nodes.length, account);
  clearInfoCache(req, account, container);
  const res = await quorumWrite(ctx.client, ring, partition, 'DELETE', `/${account}/${container}`, headers);
  // 202 means no server had the container
  return res.status === 202 ? notFound() : res;
}

export function handleContainer(ctx: ProxyContext, req: SwiftRequest, account: string, container: string): Promise<SwiftResponse> {
  switch (req.method) {
    case 'GET':
    case 'HEAD':
      return getOrHead(ctx, req, account, container);
    case 'PUT':
      return put(ctx, req, account, container);
    case 'POST':
      return post(ctx, req, account, container);
    case 'DELETE':
      return remove(ctx, req, account, container);
    default:
      return Promise.resolve(methodNotAllowed(CONTAINER_METHODS));
  }
}
