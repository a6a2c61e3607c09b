// Container quotas (Swift's container_quotas): whoever may set a container's metadata may cap
// it with X-Container-Meta-Quota-Bytes and X-Container-Meta-Quota-Count; an object PUT that
// would go past either is a 413 "Upload exceeds quota.". Counts come from the container's info,
// so like Swift this is eventually consistent, and a chunked upload (no length) is judged as
// zero bytes. A COPY arrives here as the PUT the copy middleware above makes of it.
import type { Capabilities } from '../capabilities.ts';
import { parseSwiftPath } from '../path.ts';
import type { Handler, Middleware, SwiftRequest, SwiftResponse } from '../pipeline.ts';
import { isSuccess } from '../proxy/responses.ts';
import { containerInfo, type ContainerInfo } from './backend-info.ts';
import { bodyResponse } from './responses.ts';

const DIGITS = /^\d+$/;

/** The declared length of an upload; 0 when chunked or unreadable. */
export function declaredLength(req: SwiftRequest): number {
  const length = Number(req.headers['content-length'] ?? 0);
  return Number.isSafeInteger(length) && length > 0 ? length : 0;
}

export function containerQuotas(opts: { capabilities?: Capabilities } = {}): Middleware {
  opts.capabilities?.register('container_quotas');
  return (next: Handler): Handler => async (req) => {
    const path = parseSwiftPath(req.path);
    if (!path || path.container === undefined) return next(req);

    if (path.object === undefined) {
      if (req.method === 'PUT' || req.method === 'POST') {
        const bytes = req.headers['x-container-meta-quota-bytes'];
        if (bytes && !DIGITS.test(bytes)) return bodyResponse(400, 'Invalid bytes quota.');
        const count = req.headers['x-container-meta-quota-count'];
        if (count && !DIGITS.test(count)) return bodyResponse(400, 'Invalid count quota.');
      }
      return next(req);
    }
    if (req.method !== 'PUT') return next(req);

    const info = await containerInfo(req, next);
    // a missing container is the proxy's 404 to give
    if (!isSuccess(info.status)) return next(req);
    return overQuota(info, declaredLength(req)) ? refuse(req, info) : next(req);
  };
}

function overQuota(info: ContainerInfo, length: number): boolean {
  const bytes = info.meta['quota-bytes'];
  if (bytes !== undefined && DIGITS.test(bytes) && Number(bytes) < info.bytes + length) return true;
  const count = info.meta['quota-count'];
  return count !== undefined && DIGITS.test(count) && Number(count) < info.objectCount + 1;
}

/** 413, unless the caller could not have written here anyway: then their 401/403, so a quota does not reveal the container. */
function refuse(req: SwiftRequest, info: ContainerInfo): SwiftResponse {
  const refused = req.env.authorize?.(req, info.writeAcl);
  return refused ?? bodyResponse(413, 'Upload exceeds quota.');
}
