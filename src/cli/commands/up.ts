// tenrec up: the all-in-one. Every service built so far (today: identity) in this process,
// SQLite files and keys under the state directory, the in-memory bus, the admin bootstrapped,
// clouds.yaml and openrc written; in the foreground until SIGTERM/SIGINT.
//
// The all-in-one keeps all its state in the state directory: [identity] connection,
// [identity] key_repository and [DEFAULT] transport_url are not used here (a note says so
// when a config file or the environment sets them), so that `tenrec up` on a host that also
// has a split deployment's /etc/tenrec/tenrec.conf never touches that deployment's database.
import { chmodSync, existsSync, mkdirSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { openBus } from '../../core/bus/index.ts';
import { defaultSection } from '../../core/config/common.ts';
import { Launcher, endpointUrl } from '../../core/service.ts';
import { bootstrapIdentity } from '../../identity/bootstrap.ts';
import { identitySettings } from '../../identity/service.ts';
import { identitySection } from '../../identity/settings.ts';
import { defineCommand, portFlag } from '../command.ts';
import { adminPassword, givenAdminPassword } from '../admin-password.ts';
import { CLOUD_NAME, mergeUserClouds, writeStateCloudFiles, type CloudAccess } from '../cloud-files.ts';
import { cliLogger, configFileOption, loadCliConfig, sourceOf, stateDir as resolveStateDir, stateDirOption } from '../config.ts';
import { addIdentity } from '../identity-runtime.ts';

const REGION = 'RegionOne';
const WILDCARDS = new Set(['0.0.0.0', '::', '']);

/** Options the all-in-one replaces with its own, and what it uses instead. */
const ALL_IN_ONE: [section: string, key: string, value: string][] = [
  ['identity', 'connection', ''],
  ['identity', 'key_repository', ''],
  ['DEFAULT', 'transport_url', 'memory://'],
];

export const command = defineCommand({
  name: 'up',
  description: `
Runs identity on --port-identity with its SQLite database and Fernet keys under the state
directory and the in-memory message bus. On the first run the admin user (project admin,
domain Default) is created; with no password given, a random one is generated, printed once
and kept in <state>/admin-password. Writes <state>/clouds.yaml and <state>/openrc, and adds
the cloud "${CLOUD_NAME}" to ~/.config/openstack/clouds.yaml. A later run keeps the state.
Stop with Ctrl-C or SIGTERM: requests in flight finish first. SIGHUP re-reads the Fernet keys.`,
  options: {
    'state-dir': stateDirOption,
    'admin-password': {
      type: 'string',
      metavar: 'PW',
      help: 'admin password to set (default: $TENREC_ADMIN_PASSWORD, $OS_PASSWORD, the saved one, else generated)',
    },
    host: { type: 'string', metavar: 'ADDR', help: 'address to listen on and put in URLs (default: [DEFAULT] bind_host, 127.0.0.1)' },
    'port-identity': { type: 'string', metavar: 'PORT', help: 'identity API port (default: [identity] port, 5000)' },
    'config-file': configFileOption,
  },
  async run({ values, io }) {
    const files = values['config-file'];
    const configured = loadCliConfig(files, io.env);
    const state = resolveStateDir(values['state-dir'], io.env, configured);
    const overrides: Record<string, Record<string, string>> = { DEFAULT: { state_dir: state } };
    for (const [section, key, value] of ALL_IN_ONE) (overrides[section] ??= {})[key] = value;
    const config = loadCliConfig(files, io.env, overrides);
    const logger = cliLogger(config);
    for (const [section, key] of ALL_IN_ONE) {
      const source = sourceOf(configured, section, key);
      if (source !== 'default') logger.warn({ section, key, source }, `up: [${section}] ${key} (from ${source}) is not used: the all-in-one keeps its state in ${state}`);
    }

    const defaults = config.section(defaultSection);
    const host = values.host ?? defaults.bind_host;
    const port = portFlag(values['port-identity'], 'port-identity', config.section(identitySection).port);
    if (!existsSync(state)) {
      mkdirSync(state, { recursive: true, mode: 0o700 });
      chmodSync(state, 0o700);
    }

    const launcher = new Launcher({ logger });
    const bus = await openBus('memory://tenrec', { logger });
    launcher.onStop(() => bus.close());
    const identity = await addIdentity(launcher, { config, logger, stateDir: state, host, port, createKeys: true });
    const [identityEndpoint] = await launcher.start();
    launcher.installSignalHandlers();

    // Clients are told a name they can reach: not 0.0.0.0.
    const advertised = WILDCARDS.has(host) ? defaults.host : host;
    const authUrl = `${endpointUrl(advertised, identityEndpoint!.port)}/v3`;
    const admin = adminPassword(state, givenAdminPassword(values['admin-password'], io.env));
    await bootstrapIdentity(identity.deps.store, {
      adminPassword: admin.password,
      publicUrl: authUrl,
      region: REGION,
      passwordHashCost: identitySettings(config).passwordHashCost,
    });
    const access: CloudAccess = {
      authUrl,
      username: 'admin',
      password: admin.password,
      projectName: 'admin',
      userDomainName: 'Default',
      projectDomainName: 'Default',
      regionName: REGION,
    };
    const written = writeStateCloudFiles(state, access);
    const merged = mergeUserClouds(io.env, access);
    if (!merged.ok) logger.warn({ path: merged.path, reason: merged.reason }, `up: left ${merged.path} alone: ${merged.reason}`);

    const rows: [string, string][] = [
      ['identity', authUrl],
      [
        'admin password',
        admin.generated ? `${admin.password}  (generated; shown only now, kept in ${admin.file})` : `in ${admin.file}`,
      ],
      ['clouds.yaml', `${written.cloudsYaml}${merged.ok ? `  (cloud "${CLOUD_NAME}", also in ${merged.path})` : `  (cloud "${CLOUD_NAME}")`}`],
      ['openrc', written.openrc],
      ['state', state],
    ];
    const width = Math.max(...rows.map(([k]) => k.length));
    io.out(
      [
        'Tenrec all-in-one',
        ...rows.map(([k, v]) => `  ${k.padEnd(width)}  ${v}`),
        '',
        `  openstack --os-cloud ${CLOUD_NAME} token issue     or     source ${written.openrc}`,
        `  stop: Ctrl-C or kill -TERM ${process.pid}`,
        '',
        // From process start (node's time origin): what a user waits for.
        `ready in ${Math.round(performance.now())} ms`,
      ].join('\n'),
    );
    return new Promise<number>(() => {}); // the launcher exits the process at stop
  },
});
