// The Fastify hook services put in front of their APIs: a valid X-Auth-Token fills
// req.context; a missing or bad one is a 401 in the service's fault shape (through HttpError);
// Identity being down is a 503, never a 500.
import type { FastifyInstance } from 'fastify';
import { HttpError, unauthorized } from '../http/errors.ts';
import { IdentityUnavailableError, InvalidTokenError } from './errors.ts';
import type { TokenValidator } from './token-validator.ts';
import './request.ts';

export function registerTokenAuth(app: FastifyInstance, validator: TokenValidator, opts: { publicRoutes?: string[] } = {}): void {
  const open = new Set(['GET /healthcheck', ...(opts.publicRoutes ?? [])]);
  app.addHook('preHandler', async (req, reply) => {
    if (open.has(`${req.method} ${req.routeOptions.url ?? ''}`)) return;
    const token = req.headers['x-auth-token'];
    if (typeof token !== 'string' || token === '') {
      reply.header('www-authenticate', 'Keystone uri="identity"');
      throw unauthorized();
    }
    try {
      req.context = await validator.validate(token);
    } catch (err) {
      if (err instanceof InvalidTokenError) throw unauthorized();
      if (err instanceof IdentityUnavailableError) throw new HttpError(503, 'The identity service is unavailable.');
      throw err;
    }
  });
}
