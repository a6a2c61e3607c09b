// /v1/<account>/<container>/<object> (Swift's ObjectController): every request first learns
// the container (it must exist, and its ACLs decide who may read or write), then goes to the
// object ring. PUT, which streams the body to the replicas, is in object-put.ts.
import { applyDeleteHeaders, checkMetadata } from '../constraints.ts';
import type { SwiftRequest, SwiftResponse } from '../pipeline.ts';
import { isTrue } from '../storage/header-families.ts';
import { authorize, type ProxyContext } from './context.ts';
import { getContainerInfo, type ContainerInfo } from './info.ts';
import { objectBackendHeaders, withContainerUpdates, type ObjectTarget } from './object-headers.ts';
import { putObject } from './object-put.ts';
import { bestResponse, makeRequests, quorumSize } from './quorum.ts';
import { readFromNodes } from './read.ts';
import { badRequest, isSuccess, methodNotAllowed, notFound, serviceUnavailable } from './responses.ts';
import { headerTimestamp } from './timestamp.ts';

export const OBJECT_METHODS = ['DELETE', 'GET', 'HEAD', 'POST', 'PUT'];

/** Drops Swift's internal content-type parameter (swift_bytes, the real size of a manifest). */
function cleanContentType(res: SwiftResponse): void {
  const type = res.headers['content-type'];
  if (type?.includes(';')) {
    res.headers['content-type'] = type.split(';').filter((part, i) => i === 0 || !part.trim().startsWith('swift_bytes=')).join(';');
  }
}

async function getOrHead(ctx: ProxyContext, req: SwiftRequest, target: ObjectTarget, info: ContainerInfo): Promise<SwiftResponse> {
  const refused = authorize(req, info.readAcl);
  if (refused) return refused;
  const ring = ctx.rings().object;
  const { partition } = ring.getNodes(target.account, target.container, target.object);
  const res = await readFromNodes(ctx.client, ring, partition, {
    serverType: 'object',
    method: req.method as 'GET' | 'HEAD',
    path: target.path,
    headers: objectBackendHeaders(req, info),
    query: req.query,
    newest: isTrue(req.headers['x-newest']),
  });
  cleanContentType(res);
  return res;
}

async function post(ctx: ProxyContext, req: SwiftRequest, target: ObjectTarget, info: ContainerInfo): Promise<SwiftResponse> {
  const refused = authorize(req, info.writeAcl);
  if (refused) return refused;
  if (!isSuccess(info.status)) return notFound();
  const invalid = checkMetadata(req.headers, 'object') ?? applyDeleteHeaders(req.headers, headerTimestamp(req.headers['x-timestamp']).seconds);
  if (invalid) return invalid;
  const ring = ctx.rings().object;
  const { partition, nodes } = ring.getNodes(target.account, target.container, target.object);
  const headers = withContainerUpdates(ctx, objectBackendHeaders(req, info), nodes.length, target);
  const results = await makeRequests(ctx.client, ring, partition, 'POST', target.path, headers);
  const res = bestResponse(results, quorumSize(nodes.length));
  // Some replica has the object: a 404 from the others is a replica behind, not the answer.
  if (res.status === 404 && results.some((r) => r.status === 202)) return serviceUnavailable();
  return res;
}

async function remove(ctx: ProxyContext, req: SwiftRequest, target: ObjectTarget, info: ContainerInfo): Promise<SwiftResponse> {
  const refused = authorize(req, info.writeAcl);
  if (refused) return refused;
  if (!isSuccess(info.status)) return notFound();
  const ring = ctx.rings().object;
  const { partition, nodes } = ring.getNodes(target.account, target.container, target.object);
  const headers = withContainerUpdates(ctx, objectBackendHeaders(req, info), nodes.length, target);
  const results = await makeRequests(ctx.client, ring, partition, 'DELETE', target.path, headers);
  // Replicas that never had it agree with those that deleted it.
  return bestResponse(results, quorumSize(nodes.length), { 404: 204 });
}

export async function handleObject(ctx: ProxyContext, req: SwiftRequest, target: ObjectTarget): Promise<SwiftResponse> {
  if (!OBJECT_METHODS.includes(req.method)) return methodNotAllowed(OBJECT_METHODS);
  if (req.method === 'PUT' && req.headers['if-none-match'] !== undefined && !req.headers['if-none-match'].includes('*')) {
    return badRequest('If-None-Match only supports *');
  }
  const info = await getContainerInfo(req, ctx.app, target.account, target.container);
  if (info.status >= 500) return serviceUnavailable();
  switch (req.method) {
    case 'GET':
    case 'HEAD':
      return getOrHead(ctx, req, target, info);
    case 'POST':
      return post(ctx, req, target, info);
    case 'DELETE':
      return remove(ctx, req, target, info);
    default:
      return putObject(ctx, req, target, info);
  }
}
