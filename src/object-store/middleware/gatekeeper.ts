// The proxy's outer wall, as Swift's gatekeeper: headers only the cluster itself may set —
// system metadata (what middlewares such as versioned writes and SLO keep about a container or
// object, and auth's record of an account's domain) and the x-backend-* conversation between
// proxy and storage servers — are dropped from what clients send, and never shown to them.
import type { Handler, Middleware } from '../pipeline.ts';

const PRIVATE = /^(x-(account|container|object)-sysmeta-|x-object-transient-sysmeta-|x-backend|x-account-(host|device|partition)$|x-container-(host|device|partition|root-db-state)$|x-delete-at-(host|device|partition|container)$)/;

export const isPrivateHeader = (name: string): boolean => PRIVATE.test(name);

function dropPrivate(headers: Record<string, string>): void {
  for (const name of Object.keys(headers)) if (PRIVATE.test(name)) delete headers[name];
}

export function gatekeeper(): Middleware {
  return (next: Handler): Handler => async (req) => {
    dropPrivate(req.headers);
    const res = await next(req);
    dropPrivate(res.headers);
    return res;
  };
}
