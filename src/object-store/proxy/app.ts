// The proxy app, innermost in the pipeline (Swift's proxy server): it finds the controller for
// a path — /info, an account, a container, an object — and that controller talks to the
// storage servers the rings name. Authorization is the auth middleware's, asked through
// req.env.authorize at the point Swift asks it (see context.ts, and each controller).
import type { Logger } from 'pino';
import type { Capabilities } from '../capabilities.ts';
import { validApiVersion } from '../constraints.ts';
import { textResponse, type Handler, type SwiftRequest, type SwiftResponse } from '../pipeline.ts';
import { handleAccount } from './account.ts';
import { createBackendClient } from './backend.ts';
import { handleContainer } from './container.ts';
import type { ProxyContext, Rings } from './context.ts';
import { handleInfo, registerSwiftInfo } from './info-controller.ts';
import { handleObject } from './object.ts';
import { badRequest, notFound, preconditionFailed, ResponseError } from './responses.ts';
import { newTimestamp } from './timestamp.ts';

export interface ProxyOptions {
  rings: () => Rings;
  logger: Logger;
  nodeTimeoutMs: number;
  connTimeoutMs: number;
  accountAutocreate: boolean;
  /** where /info's sections live; the proxy registers "swift" in it */
  capabilities: Capabilities;
}

interface PathParts {
  version: string;
  account?: string;
  container?: string;
  object?: string;
}

/**
 * /<version>[/<account>[/<container>[/<object>]]], the object keeping its slashes. Undefined
 * (a 404) when a component before the last is empty ("/v1/a//o") or there is no version.
 */
export function splitPath(path: string): PathParts | undefined {
  if (!path.startsWith('/')) return undefined;
  const segments = path.slice(1).split('/');
  const parts = segments.length > 4 ? [...segments.slice(0, 3), segments.slice(3).join('/')] : segments;
  if (!parts[0] || parts.slice(0, -1).some((p) => p === '')) return undefined;
  const [version, account, container, object] = parts;
  return { version: version!, account: account || undefined, container: container || undefined, object: object || undefined };
}

async function route(ctx: ProxyContext, req: SwiftRequest): Promise<SwiftResponse> {
  if (req.path === '/info') return handleInfo(ctx.capabilities, req);
  const parts = splitPath(req.path);
  if (!parts) return notFound();
  const { version, account, container, object } = parts;
  if (!account) return preconditionFailed('Bad URL');
  if (!validApiVersion(version)) return badRequest();
  // Every write is stamped here, so replicas agree on which write is newest. Internal
  // subrequests may bring their own (a middleware replaying a write); clients may not.
  if (!req.env.source || !req.headers['x-timestamp']) req.headers['x-timestamp'] = newTimestamp();
  if (object !== undefined && container !== undefined) {
    return handleObject(ctx, req, { account, container, object, path: `/${account}/${container}/${object}` });
  }
  if (container !== undefined) return handleContainer(ctx, req, account, container);
  return handleAccount(ctx, req, account);
}

export function createProxyHandler(opts: ProxyOptions): { handler: Handler; close(): Promise<void> } {
  const client = createBackendClient({ connTimeoutMs: opts.connTimeoutMs, nodeTimeoutMs: opts.nodeTimeoutMs, logger: opts.logger });
  registerSwiftInfo(opts.capabilities, { accountAutocreate: opts.accountAutocreate });
  const handler: Handler = async (req) => {
    try {
      return await route(ctx, req);
    } catch (err) {
      if (err instanceof ResponseError) return err.response;
      opts.logger.error({ err, trans_id: req.env.transId, method: req.method, path: req.path }, 'unhandled error in the proxy');
      return textResponse(500, 'An error occurred');
    }
  };
  const ctx: ProxyContext = {
    rings: opts.rings,
    client,
    logger: opts.logger,
    accountAutocreate: opts.accountAutocreate,
    capabilities: opts.capabilities,
    app: handler,
  };
  return {
    handler,
    close: async () => {
      client.agent.destroy();
    },
  };
}
