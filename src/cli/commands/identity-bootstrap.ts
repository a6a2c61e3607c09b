// tenrec identity bootstrap: keystone-manage bootstrap. Creates (or, run again, updates) the
// Default domain, the admin/member/reader/service roles, the admin project and user with the
// admin role on it and on the system, the region and the identity endpoints.
import { defaultSection } from '../../core/config/common.ts';
import { endpointUrl } from '../../core/service.ts';
import { bootstrapIdentity } from '../../identity/bootstrap.ts';
import { identityDatabaseUrl, identitySettings, openIdentityStore } from '../../identity/service.ts';
import { identitySection } from '../../identity/settings.ts';
import { defineCommand, UsageError } from '../command.ts';
import { configFileOption, loadCliConfig, stateDir as resolveStateDir, stateDirOption } from '../config.ts';

export const command = defineCommand({
  name: 'identity bootstrap',
  description: `
Idempotent: a second run changes only what it is told (the password is set again, the user
re-enabled, endpoint URLs updated). Runs the identity migrations first. The database is
[identity] connection (empty: SQLite under the state directory). The public URL defaults to
[identity] public_endpoint + /v3, else http://<[DEFAULT] host>:<[identity] port>/v3; the
internal and admin URLs default to the public one.`,
  options: {
    'bootstrap-password': { type: 'string', metavar: 'PW', help: 'password of the admin user (default: $OS_BOOTSTRAP_PASSWORD); required' },
    'bootstrap-username': { type: 'string', metavar: 'NAME', help: 'name of the admin user (default: admin)' },
    'bootstrap-project-name': { type: 'string', metavar: 'NAME', help: 'name of the admin project (default: admin)' },
    'bootstrap-region-id': { type: 'string', metavar: 'ID', help: 'region of the identity endpoints (default: RegionOne)' },
    'bootstrap-public-url': { type: 'string', metavar: 'URL', help: 'public identity endpoint' },
    'bootstrap-internal-url': { type: 'string', metavar: 'URL', help: 'internal identity endpoint (default: the public one)' },
    'bootstrap-admin-url': { type: 'string', metavar: 'URL', help: 'admin identity endpoint (default: the public one)' },
    'config-file': configFileOption,
    'state-dir': stateDirOption,
  },
  async run({ values, io }) {
    const password = values['bootstrap-password'] || io.env.OS_BOOTSTRAP_PASSWORD;
    if (!password) throw new UsageError('--bootstrap-password is required (or set OS_BOOTSTRAP_PASSWORD)');
    const config = loadCliConfig(values['config-file'], io.env);
    const state = resolveStateDir(values['state-dir'], io.env, config);
    const identity = config.section(identitySection);
    const publicUrl =
      values['bootstrap-public-url'] ??
      (identity.public_endpoint
        ? `${identity.public_endpoint.replace(/\/+$/, '')}/v3`
        : `${endpointUrl(config.section(defaultSection).host, identity.port)}/v3`);
    const username = values['bootstrap-username'] ?? 'admin';
    const projectName = values['bootstrap-project-name'] ?? 'admin';
    const region = values['bootstrap-region-id'] ?? 'RegionOne';

    const { store, close } = await openIdentityStore(identityDatabaseUrl(config, state));
    try {
      const result = await bootstrapIdentity(store, {
        adminUsername: username,
        adminPassword: password,
        adminProjectName: projectName,
        region,
        publicUrl,
        internalUrl: values['bootstrap-internal-url'],
        adminUrl: values['bootstrap-admin-url'],
        passwordHashCost: identitySettings(config).passwordHashCost,
      });
      io.out(
        [
          `user     ${username} (${result.userId}), admin on project and system`,
          `project  ${projectName} (${result.projectId}) in domain Default`,
          `roles    ${Object.keys(result.roleIds).join(', ')} (admin implies member implies reader)`,
          `region   ${region}`,
          `identity public ${publicUrl}, internal ${values['bootstrap-internal-url'] ?? publicUrl}, admin ${values['bootstrap-admin-url'] ?? publicUrl}`,
        ].join('\n'),
      );
    } finally {
      await close();
    }
    return 0;
  },
});
