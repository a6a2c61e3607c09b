// What every controller of the proxy works with.
import type { Logger } from 'pino';
import type { Capabilities } from '../capabilities.ts';
import type { Handler, SwiftRequest, SwiftResponse } from '../pipeline.ts';
import type { Ring } from '../ring/types.ts';
import type { BackendClient } from './backend.ts';

export interface Rings {
  account: Ring;
  container: Ring;
  object: Ring;
}

export interface ProxyContext {
  /** asked on every request, so rings reloaded from disk take effect at once */
  rings: () => Rings;
  client: BackendClient;
  logger: Logger;
  accountAutocreate: boolean;
  capabilities: Capabilities;
  /** the proxy itself: info lookups go straight to it, below every middleware */
  app: Handler;
}

/** Asks the auth middleware (when there is one) whether the caller may go on; its refusal, or undefined. */
export function authorize(req: SwiftRequest, acl?: string): SwiftResponse | undefined {
  return req.env.authorize?.(req, acl);
}
