// Identity checks its own tokens in-process: a request with X-Auth-Token gets its context, or a
// 401 when the token is not valid. Requests without one reach handlers anonymous; handlers
// that need a caller answer 401 through authorize().
import type { FastifyInstance } from 'fastify';
import { unauthorized } from '../../core/http/index.ts';
import type { IdentityDeps } from './common.ts';
import { TokenNotValid } from '../token/token-service.ts';

/** Routes that must work with a missing or bad token. */
const PUBLIC = new Set(['POST /v3/auth/tokens', 'GET /', 'GET /v3', 'GET /healthcheck']);

export function registerAuthHook(app: FastifyInstance, deps: IdentityDeps): void {
  app.addHook('preHandler', async (req) => {
    const token = req.headers['x-auth-token'];
    const route = `${req.method} ${req.routeOptions.url ?? ''}`;
    if (typeof token !== 'string' || token === '' || PUBLIC.has(route)) return;
    try {
      req.context = (await deps.tokens.validate(token)).context;
    } catch (err) {
      if (err instanceof TokenNotValid) throw unauthorized();
      throw err;
    }
  });
}
