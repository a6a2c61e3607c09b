// Every identity API file, registered on the app.
import type { FastifyInstance } from 'fastify';
import type { IdentityDeps } from './common.ts';
import type { Authenticator } from '../token/authenticate.ts';
import { registerAuthHook } from './auth-hook.ts';
import { registerVersions } from './versions.ts';
import { registerAuthTokens } from './auth-tokens.ts';
import { registerDomains } from './domains.ts';
import { registerProjects } from './projects.ts';
import { registerRoles } from './roles.ts';
import { registerImpliedRoles } from './implied-roles.ts';
import { registerGrants } from './grants.ts';
import { registerRoleAssignments } from './role-assignments.ts';
import { registerRegions } from './regions.ts';
import { registerServices } from './services.ts';
import { registerEndpoints } from './endpoints.ts';
import { registerApplicationCredentials } from './application-credentials.ts';
import { registerUsers } from './users.ts';
import { registerGroups } from './groups.ts';
import { registerCredentials } from './credentials.ts';
import { registerEc2Credentials } from './ec2-credentials.ts';
import { registerEc2Tokens } from './ec2-tokens.ts';

export function registerIdentityApi(app: FastifyInstance, deps: IdentityDeps, authenticator: Authenticator): void {
  registerAuthHook(app, deps);
  registerVersions(app, deps);
  registerAuthTokens(app, deps, authenticator);
  registerDomains(app, deps);
  registerProjects(app, deps);
  registerRoles(app, deps);
  registerImpliedRoles(app, deps);
  registerGrants(app, deps);
  registerRoleAssignments(app, deps);
  registerRegions(app, deps);
  registerServices(app, deps);
  registerEndpoints(app, deps);
  registerApplicationCredentials(app, deps);
  registerUsers(app, deps);
  registerGroups(app, deps);
  registerCredentials(app, deps);
  registerEc2Credentials(app, deps);
  registerEc2Tokens(app, deps);
}
