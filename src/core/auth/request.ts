// Fastify's request carries the caller's validated context once authentication has run.
import type { RequestContext } from './context.ts';

declare module 'fastify' {
  interface FastifyRequest {
    context?: RequestContext;
  }
}

export {};
