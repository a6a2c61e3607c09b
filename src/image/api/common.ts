// What every image API file shares: the dependencies it is handed, authorization, links and
// Glance's error wording.
import type { FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { forbidden, unauthorized, publicBaseUrl } from '../../core/http/index.ts';
import { policyCredentials, type RequestContext } from '../../core/auth/index.ts';
import type { Enforcer } from '../../core/policy/index.ts';
import type { ImageData } from '../db/database.ts';
import type { StoreRegistry } from '../store/registry.ts';
import type { ImageSettings } from '../image-settings.ts';

export interface ImageDeps {
  data: ImageData;
  stores: StoreRegistry;
  /** where staged data (PUT /stage) waits for import */
  staging: import('../store/types.ts').ImageStore;
  policy: Enforcer;
  settings: ImageSettings;
  logger: Logger;
}

/** The caller's context; 401 when the request carried no valid token (the auth hook runs first). */
export function contextOf(req: FastifyRequest): RequestContext {
  if (!req.context) throw unauthorized();
  return req.context;
}

export const isAdmin = (ctx: RequestContext) => ctx.roles.includes('admin');

/** Checks `rule` against `target`; 403 when denied. */
export function authorize(req: FastifyRequest, deps: ImageDeps, rule: string, target: Record<string, unknown> = {}): RequestContext {
  const ctx = contextOf(req);
  const full = { project_id: ctx.projectId, ...target };
  if (!deps.policy.check(rule, full, policyCredentials(ctx))) {
    throw forbidden(`You are not authorized to complete ${rule} action.`);
  }
  return ctx;
}

/** The public base URL of this image endpoint (honours X-Forwarded-*). */
export function baseUrl(req: FastifyRequest, deps: ImageDeps): string {
  return publicBaseUrl(req, deps.settings.publicEndpoint, 'localhost:9292');
}
