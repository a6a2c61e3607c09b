// Every identity API file, registered on the app.
import type { FastifyInstance } from 'fastify';
import type { IdentityDeps } from './common.ts';
import type { Authenticator } from '../token/authenticate.ts';
import { registerAuthHook } from './auth-hook.ts';
import { registerVersions } from './versions.ts';
import { registerAuthTokens } from './auth-tokens.ts';
import { registerDomains } from './domains.ts';
import { registerProjects } from './projects.ts';

export function registerIdentityApi(app: FastifyInstance, deps: IdentityDeps, authenticator: Authenticator): void {
  registerAuthHook(app, deps);
  registerVersions(app, deps);
  registerAuthTokens(app, deps, authenticator);
  registerDomains(app, deps);
  registerProjects(app, deps);
}
