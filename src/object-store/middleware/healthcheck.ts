// /healthcheck answers 200 "OK" before anything else runs (no token, no storage server asked),
// for load balancers and monitoring, as Swift's healthcheck middleware does.
import type { Handler, Middleware } from '../pipeline.ts';

export function healthcheck(): Middleware {
  return (next: Handler): Handler => async (req) => {
    if (req.path !== '/healthcheck') return next(req);
    return { status: 200, headers: { 'content-type': 'text/plain', 'content-length': '2' }, body: 'OK' };
  };
}
