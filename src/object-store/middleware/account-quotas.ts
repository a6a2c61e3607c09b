// Account quotas (Swift's account_quotas): a reseller admin caps an account with
// X-Account-Quota-Bytes / X-Account-Quota-Count (or the older X-Account-Meta-Quota-Bytes), kept
// as account system metadata so that the account's own users can see but not change them
// (403 when they try; the gatekeeper keeps clients from writing system metadata themselves).
// An object PUT that would go past a quota is a 413 "Upload exceeds quota."; resellers are not
// held to quotas. Per-policy quotas are not offered: there is one storage policy.
import type { Capabilities } from '../capabilities.ts';
import { parseInteger } from '../constraints.ts';
import { parseSwiftPath } from '../path.ts';
import type { Handler, Middleware, SwiftRequest, SwiftResponse } from '../pipeline.ts';
import { accountInfo } from './backend-info.ts';
import { declaredLength } from './container-quotas.ts';
import { bodyResponse, errorPage } from './responses.ts';

const QUOTAS = ['quota-bytes', 'quota-count'] as const;

/** A stored quota; -1 (none) when unset or unreadable. */
function quotaValue(value: string | undefined): number {
  return (value === undefined ? undefined : parseInteger(value)) ?? -1;
}

export function accountQuotas(opts: { capabilities?: Capabilities } = {}): Middleware {
  opts.capabilities?.register('account_quotas');
  return (next: Handler): Handler => async (req) => {
    const path = parseSwiftPath(req.path);
    if (!path) return next(req);
    if (path.container === undefined) return accountRequest(req, next);
    if (req.method !== 'PUT' || path.object === undefined || req.env.resellerRequest === true) return next(req);

    const info = await accountInfo(req, next);
    const bytes = quotaValue(info.sysmeta['quota-bytes'] ?? info.meta['quota-bytes']);
    if (bytes >= 0 && bytes < info.bytes + declaredLength(req)) return exceeded(req, next);
    const count = quotaValue(info.sysmeta['quota-count']);
    if (count >= 0 && count < info.objectCount + 1) return exceeded(req, next);
    return next(req);
  };
}

/**
 * 413, but only once the request is known to be authorized: the auth decision comes later
 * (container ACLs need the container's info), so it is wrapped to answer 413 where it would
 * have allowed the upload.
 */
function exceeded(req: SwiftRequest, next: Handler): Promise<SwiftResponse> | SwiftResponse {
  const tooLarge = bodyResponse(413, 'Upload exceeds quota.');
  const authorize = req.env.authorize;
  if (!authorize) return tooLarge;
  req.env.authorize = (r, acl) => authorize(r, acl) ?? tooLarge;
  return next(req);
}

async function accountRequest(req: SwiftRequest, next: Handler): Promise<SwiftResponse> {
  if (req.method === 'POST' || req.method === 'PUT') {
    for (const legacy of ['x-account-meta-quota-bytes', 'x-remove-account-meta-quota-bytes']) {
      const current = legacy.replace('-meta-', '-');
      if (req.headers[legacy] !== undefined && !req.headers[current]) req.headers[current] = req.headers[legacy]!;
    }
    for (const quota of QUOTAS) {
      let value = req.headers[`x-account-${quota}`];
      if (req.headers[`x-remove-account-${quota}`]) value = '';
      if (value === undefined) continue;
      if (req.env.resellerRequest !== true) return errorPage(403);
      if (value !== '' && !/^\d+$/.test(value)) return errorPage(400);
      req.headers[`x-account-sysmeta-${quota}`] = value;
    }
  }
  const res = await next(req);
  // Everyone who may see the account sees its quotas.
  for (const quota of QUOTAS) {
    const value = res.headers[`x-account-sysmeta-${quota}`];
    if (value) res.headers[`x-account-${quota}`] = value;
  }
  return res;
}
