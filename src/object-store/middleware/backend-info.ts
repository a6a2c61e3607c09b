// Account and container info as the middlewares here ask for it: for the account or container
// a request is addressed to, through the proxy's own cached lookups (proxy/info.ts), which see
// what the storage servers hold before any owner-only header is hidden (temp URL keys among
// them). Looked up without authorization; what comes back is for the middleware, not the caller.
import { parseSwiftPath } from '../path.ts';
import type { Handler, SwiftRequest } from '../pipeline.ts';
import { getAccountInfo, getContainerInfo, type AccountInfo, type ContainerInfo } from '../proxy/info.ts';

export type { AccountInfo, ContainerInfo };

/** The info of the account `req` is addressed to (a Swift path). */
export function accountInfo(req: SwiftRequest, next: Handler): Promise<AccountInfo> {
  return getAccountInfo(req, next, parseSwiftPath(req.path)!.account);
}

/** The info of the container `req` is addressed to (a Swift path with a container). */
export function containerInfo(req: SwiftRequest, next: Handler): Promise<ContainerInfo> {
  const p = parseSwiftPath(req.path)!;
  return getContainerInfo(req, next, p.account, p.container!);
}
