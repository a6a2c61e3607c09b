// What an object request tells the object servers: the client's headers, the container's
// policy, and which container servers to update about the change.
import type { SwiftRequest } from '../pipeline.ts';
import type { ProxyContext } from './context.ts';
import { addUpdateTarget, backendHeaders, forwardedHeaders } from './headers.ts';
import type { ContainerInfo } from './info.ts';
import { quorumSize } from './quorum.ts';

export interface ObjectTarget {
  account: string;
  container: string;
  object: string;
  /** /a/c/o as the storage servers name it */
  path: string;
}

/**
 * One header set per object replica, each naming the container server(s) the object server
 * must update, so that if only a quorum of object writes succeed, a quorum of container
 * replicas still hears of it — and every container replica is named at least once.
 */
export function withContainerUpdates(ctx: ProxyContext, base: Record<string, string>, count: number, target: ObjectTarget): Record<string, string>[] {
  const { partition, nodes } = ctx.rings().container.getNodes(target.account, target.container);
  const headers = Array.from({ length: count }, () => ({ ...base }));
  if (!nodes.length || !count) return headers;
  const updates = Math.max(quorumSize(nodes.length) + count - quorumSize(count), nodes.length);
  for (let i = 0; i < updates; i++) addUpdateTarget(headers[i % count]!, 'container', partition, nodes[i % nodes.length]!);
  return headers;
}

/** Headers for the object servers: the client's own, the proxy's timestamp, the container's policy. */
export function objectBackendHeaders(req: SwiftRequest, info: ContainerInfo): Record<string, string> {
  return backendHeaders(req, {
    additional: { ...forwardedHeaders(req), 'x-backend-storage-policy-index': String(info.storagePolicy) },
  });
}
