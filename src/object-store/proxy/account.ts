// /v1/<account>: its listing and metadata (Swift's AccountController). Accounts come into being
// on first write when account_autocreate is on; until then reads answer as for an empty one.
import { checkMetadata, listingLimit, ACCOUNT_LISTING_LIMIT, MAX_ACCOUNT_NAME_LENGTH, nameBytes } from '../constraints.ts';
import { errorPage } from '../middleware/responses.ts';
import type { SwiftRequest, SwiftResponse } from '../pipeline.ts';
import { isSysMeta, isTrue } from '../storage/header-families.ts';
import { authorize, type ProxyContext } from './context.ts';
import { backendHeaders, dropOwnerHeaders, forwardedHeaders, isOwner } from './headers.ts';
import { clearInfoCache, setInfoCache } from './info.ts';
import { quorumWrite } from './quorum.ts';
import { readFromNodes } from './read.ts';
import { badRequest, isSuccess, methodNotAllowed, serviceUnavailable } from './responses.ts';
import { DEFAULT_POLICY } from './storage-policy.ts';
import { newTimestamp } from './timestamp.ts';

export const ACCOUNT_METHODS = ['DELETE', 'GET', 'HEAD', 'POST', 'PUT'];

function nameTooLong(account: string): SwiftResponse | undefined {
  const size = nameBytes(account);
  return size > MAX_ACCOUNT_NAME_LENGTH ? badRequest(`Account name length of ${size} longer than ${MAX_ACCOUNT_NAME_LENGTH}`) : undefined;
}

/** The answer for an account that has no database yet: empty, as the account server would say for a new one. */
function emptyAccount(method: string): SwiftResponse {
  const now = newTimestamp();
  const body = method === 'GET' ? '[]' : '';
  return {
    status: method === 'GET' ? 200 : 204,
    headers: {
      'x-account-container-count': '0',
      'x-account-object-count': '0',
      'x-account-bytes-used': '0',
      'x-timestamp': now,
      'x-backend-fake-account-listing': 'yes',
      'content-type': 'application/json; charset=utf-8',
      'content-length': String(body.length),
    },
    body,
  };
}

/** PUTs the account on every replica; true when a quorum made it. */
export async function autocreateAccount(ctx: ProxyContext, req: SwiftRequest, account: string): Promise<boolean> {
  const ring = ctx.rings().account;
  const { partition } = ring.getNodes(account);
  const headers: Record<string, string> = { 'x-timestamp': newTimestamp(), 'x-trans-id': req.env.transId };
  for (const [name, value] of Object.entries(req.headers)) if (isSysMeta('account', name)) headers[name] = value;
  const created = (await quorumWrite(ctx.client, ring, partition, 'PUT', `/${account}`, headers)).status;
  clearInfoCache(req, account);
  if (isSuccess(created)) {
    ctx.logger.info({ account }, 'autocreated account');
    return true;
  }
  ctx.logger.warn({ account, status: created }, 'could not autocreate account');
  return false;
}

async function getOrHead(ctx: ProxyContext, req: SwiftRequest, account: string): Promise<SwiftResponse> {
  const refused = authorize(req) ?? nameTooLong(account);
  if (refused) return refused;
  const query = new URLSearchParams(req.query);
  if (req.method === 'GET') {
    const limit = listingLimit(query, ACCOUNT_LISTING_LIMIT);
    if (typeof limit !== 'number') return limit;
  }
  query.set('format', 'json');
  const ring = ctx.rings().account;
  const { partition } = ring.getNodes(account);
  let res = await readFromNodes(ctx.client, ring, partition, {
    serverType: 'account',
    method: req.method as 'GET' | 'HEAD',
    path: `/${account}`,
    headers: backendHeaders(req, { additional: forwardedHeaders(req) }),
    query,
    newest: isTrue(req.headers['x-newest']),
  });
  if (res.status === 404) {
    if (res.headers['x-account-status']?.toLowerCase() === 'deleted') res = { ...res, status: 410 };
    else if (ctx.accountAutocreate) res = emptyAccount(req.method);
  }
  setInfoCache(req, account, undefined, res.status, res.headers);
  if (!isOwner(req)) dropOwnerHeaders(res.headers);
  addPolicyUsage(res);
  return res;
}

/**
 * Usage per storage policy, as Swift's account server reports it for each policy in use
 * (clients and Tempest read it). There is one policy, so it holds the account's totals.
 */
function addPolicyUsage(res: SwiftResponse): void {
  const h = res.headers;
  if (!isSuccess(res.status) || !(Number(h['x-account-container-count']) > 0)) return;
  const prefix = `x-account-storage-policy-${DEFAULT_POLICY.name.toLowerCase()}`;
  h[`${prefix}-container-count`] = h['x-account-container-count']!;
  h[`${prefix}-object-count`] = h['x-account-object-count'] ?? '0';
  h[`${prefix}-bytes-used`] = h['x-account-bytes-used'] ?? '0';
}

async function post(ctx: ProxyContext, req: SwiftRequest, account: string): Promise<SwiftResponse> {
  const refused = authorize(req) ?? nameTooLong(account) ?? checkMetadata(req.headers, 'account');
  if (refused) return refused;
  const ring = ctx.rings().account;
  const { partition } = ring.getNodes(account);
  const headers = backendHeaders(req, { transfer: 'account' });
  clearInfoCache(req, account);
  const send = () => quorumWrite(ctx.client, ring, partition, 'POST', `/${account}`, headers);
  const res = await send();
  if (res.status === 404 && ctx.accountAutocreate) {
    if (!(await autocreateAccount(ctx, req, account))) return serviceUnavailable();
    return send();
  }
  return res;
}

/** Creating and deleting accounts is for reseller admins: the auth middleware decides, and an anonymous caller never may. */
async function putOrDelete(ctx: ProxyContext, req: SwiftRequest, account: string): Promise<SwiftResponse> {
  const refused = authorize(req);
  if (refused) return refused;
  if (!req.env.identity && !req.env.authorizeOverride) return errorPage(403);
  if (req.method === 'DELETE' && [...req.query.keys()].length) return badRequest();
  const invalid = req.method === 'PUT' ? (nameTooLong(account) ?? checkMetadata(req.headers, 'account')) : undefined;
  if (invalid) return invalid;
  const ring = ctx.rings().account;
  const { partition } = ring.getNodes(account);
  const headers = backendHeaders(req, req.method === 'PUT' ? { transfer: 'account' } : {});
  clearInfoCache(req, account);
  return quorumWrite(ctx.client, ring, partition, req.method, `/${account}`, headers);
}

export function handleAccount(ctx: ProxyContext, req: SwiftRequest, account: string): Promise<SwiftResponse> {
  switch (req.method) {
    case 'GET':
    case 'HEAD':
      return getOrHead(ctx, req, account);
    case 'POST':
      return post(ctx, req, account);
    case 'PUT':
    case 'DELETE':
      return putOrDelete(ctx, req, account);
    default:
      return Promise.resolve(methodNotAllowed(ACCOUNT_METHODS));
  }
}
