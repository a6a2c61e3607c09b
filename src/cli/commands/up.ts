// tenrec up: the all-in-one. Every service built so far (identity, image, network, object store) in this process,
// SQLite files, keys and image data under the state directory, the in-memory bus, the admin
// bootstrapped, clouds.yaml and openrc written; in the foreground until SIGTERM/SIGINT.
//
// The all-in-one keeps all its state in the state directory: [identity] connection,
// [identity] key_repository, [image] connection, stores_dir and staging_dir and [DEFAULT]
// transport_url are not used here (a note says so when a config file or the environment sets
// them), so that `tenrec up` on a host that also has a split deployment's
// /etc/tenrec/tenrec.conf never touches that deployment's database. The image service's
// identity settings ([image] auth_url, service_*) are its own too: it validates tokens against
// the identity in this process, over HTTP, as its service user "image", whose random
// password is kept in <state>/service-passwords.json. The object store's proxy likewise, as
// "swift"; its storage server listens on loopback with one device under <state>/object-store,
// whose rings (one replica) are made on the first run.
import { chmodSync, existsSync, mkdirSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { IdentityClient } from '../../clients/identity.ts';
import { openBus } from '../../core/bus/index.ts';
import { defaultSection } from '../../core/config/common.ts';
import { Launcher, endpointUrl } from '../../core/service.ts';
import { bootstrapIdentity, ensureServiceUser, registerService } from '../../identity/bootstrap.ts';
import { identitySettings } from '../../identity/service.ts';
import { identitySection } from '../../identity/settings.ts';
import { imageSection } from '../../image/settings.ts';
import { networkSection } from '../../network/settings.ts';
import { objectStoreSection } from '../../object-store/settings.ts';
import { addObjectStoreProxy, addObjectStoreStorage, ensureAllInOneStorage, ensureResellerAdminRole } from '../object-store-runtime.ts';
import { addNetwork, ensureStarterNetworks } from '../network-runtime.ts';
import { defineCommand, portFlag } from '../command.ts';
import { adminPassword, givenAdminPassword } from '../admin-password.ts';
import { CLOUD_NAME, mergeUserClouds, writeStateCloudFiles, type CloudAccess } from '../cloud-files.ts';
import { cliLogger, configFileOption, loadCliConfig, sourceOf, stateDir as resolveStateDir, stateDirOption } from '../config.ts';
import { addIdentity } from '../identity-runtime.ts';
import { addImage, ensureStarterImage, STARTER_IMAGE_NAME } from '../image-runtime.ts';
import { servicePassword, SERVICE_PASSWORDS_FILE } from '../service-passwords.ts';

const REGION = 'RegionOne';
const WILDCARDS = new Set(['0.0.0.0', '::', '']);
const IMAGE_SERVICE_USER = 'image';
const NETWORK_SERVICE_USER = 'network';
const OBJECT_STORE_SERVICE_USER = 'swift';
const SERVICE_PROJECT = 'service';
/** [image] enabled_backends of the all-in-one unless configured: files (the default store) and the object store */
const ALL_IN_ONE_IMAGE_STORES = 'local:file, swift:swift';

/** Options the all-in-one replaces with its own, and what it uses instead (null: decided at run time). */
const ALL_IN_ONE: [section: string, key: string, value: string | null][] = [
  ['identity', 'connection', ''],
  ['identity', 'key_repository', ''],
  ['image', 'connection', ''],
  ['image', 'stores_dir', ''],
  ['image', 'staging_dir', ''],
  ['image', 'auth_url', null],
  ['image', 'service_username', IMAGE_SERVICE_USER],
  ['image', 'service_password', null],
  ['image', 'service_project', SERVICE_PROJECT],
  ['network', 'connection', ''],
  ['network', 'auth_url', null],
  ['network', 'service_username', NETWORK_SERVICE_USER],
  ['network', 'service_password', null],
  ['network', 'service_project', SERVICE_PROJECT],
  ['object-store', 'ring_dir', ''],
  ['object-store', 'devices', ''],
  // where objects live on disk hangs on these: a split deployment's must not move the all-in-one's data
  ['object-store', 'hash_path_prefix', ''],
  ['object-store', 'hash_path_suffix', 'tenrec'],
  ['object-store', 'auth_url', null],
  ['object-store', 'service_username', OBJECT_STORE_SERVICE_USER],
  ['object-store', 'service_password', null],
  ['object-store', 'service_project', SERVICE_PROJECT],
  ['DEFAULT', 'transport_url', 'memory://'],
];

/** A port nothing listens on now, for a port given as 0: the image service must know identity's port before either listens. */
async function concretePort(port: number, host: string): Promise<number> {
  if (port !== 0) return port;
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, WILDCARDS.has(host) ? undefined : host, resolve);
  });
  const found = (server.address() as AddressInfo).port;
  await new Promise((resolve) => server.close(resolve));
  return found;
}

/** The address this process reaches its own listeners at. */
const loopbackFor = (host: string) => (host === '::' ? '::1' : WILDCARDS.has(host) ? '127.0.0.1' : host);

export const command = defineCommand({
  name: 'up',
  description: `
Runs identity on --port-identity and the image service on --port-image, with their SQLite
databases, the Fernet keys and the image data (<state>/images, staging in
<state>/image-staging) under the state directory, and the in-memory message bus. On the
first run the admin user (project admin, domain Default) is created; with no password given,
a random one is generated, printed once and kept in <state>/admin-password. The image
service's user "image" (project service) gets a random password kept in
<state>/${SERVICE_PASSWORDS_FILE}, and the image endpoint is put in the catalog. Image data
goes to the store "local" (files under <state>/images/local) unless an upload names the
store "swift" (container glance of the object store account of project service); set
[image] enabled_backends and default_backend to choose otherwise. While the
cloud has no image, the public image "${STARTER_IMAGE_NAME}" (an empty 1 GiB qcow2 disk) is
uploaded. The object store's proxy (the Swift API) listens on --port-object-store, with its
user "swift", and one storage server on a free loopback port with its device in
<state>/object-store/devices/d1 and rings of one replica in <state>/object-store (made on the
first run; the port stays the one the rings name). The role "ResellerAdmin" is made for
whoever may reach every project's account. Writes <state>/clouds.yaml and <state>/openrc, and
adds the cloud "${CLOUD_NAME}" to ~/.config/openstack/clouds.yaml. A later run keeps the
state. Stop with Ctrl-C or SIGTERM:
requests in flight finish first. SIGHUP re-reads the Fernet keys.`,
  options: {
    'state-dir': stateDirOption,
    'admin-password': {
      type: 'string',
      metavar: 'PW',
      help: 'admin password to set (default: $TENREC_ADMIN_PASSWORD, $OS_PASSWORD, the saved one, else generated)',
    },
    host: { type: 'string', metavar: 'ADDR', help: 'address to listen on and put in URLs (default: [DEFAULT] bind_host, 127.0.0.1)' },
    'port-identity': { type: 'string', metavar: 'PORT', help: 'identity API port (default: [identity] port, 5000)' },
    'port-image': { type: 'string', metavar: 'PORT', help: 'image API port (default: [image] port, 9292)' },
    'port-network': { type: 'string', metavar: 'PORT', help: 'networking API port (default: [network] port, 9696)' },
    'port-object-store': { type: 'string', metavar: 'PORT', help: 'object storage API port (default: [object-store] port, 8080)' },
    'config-file': configFileOption,
  },
  async run({ values, io }) {
    const files = values['config-file'];
    const configured = loadCliConfig(files, io.env);
    const state = resolveStateDir(values['state-dir'], io.env, configured);
    const host = values.host ?? configured.section(defaultSection).bind_host;
    // Both ports are known before anything listens: the image service is told identity's URL.
    const identityPort = await concretePort(portFlag(values['port-identity'], 'port-identity', configured.section(identitySection).port), host);
    const imagePort = await concretePort(portFlag(values['port-image'], 'port-image', configured.section(imageSection).port), host);
    const networkPort = await concretePort(portFlag(values['port-network'], 'port-network', configured.section(networkSection).port), host);
    const objectStorePort = await concretePort(portFlag(values['port-object-store'], 'port-object-store', configured.section(objectStoreSection).port), host);
    if (!existsSync(state)) {
      mkdirSync(state, { recursive: true, mode: 0o700 });
      chmodSync(state, 0o700);
    }

    const runtime: Record<string, string> = {
      'image auth_url': `${endpointUrl(loopbackFor(host), identityPort)}/v3`,
      'image service_password': servicePassword(state, IMAGE_SERVICE_USER),
      'network auth_url': `${endpointUrl(loopbackFor(host), identityPort)}/v3`,
      'network service_password': servicePassword(state, NETWORK_SERVICE_USER),
      'object-store auth_url': `${endpointUrl(loopbackFor(host), identityPort)}/v3`,
      'object-store service_password': servicePassword(state, OBJECT_STORE_SERVICE_USER),
    };
    const overrides: Record<string, Record<string, string>> = { DEFAULT: { state_dir: state } };
    for (const [section, key, value] of ALL_IN_ONE) (overrides[section] ??= {})[key] = value ?? runtime[`${section} ${key}`]!;
    // The all-in-one has an object store, so images may go there too (per upload, or as the default).
    if (sourceOf(configured, 'image', 'enabled_backends') === 'default') overrides.image!.enabled_backends = ALL_IN_ONE_IMAGE_STORES;
    const config = loadCliConfig(files, io.env, overrides);
    const logger = cliLogger(config);
    for (const [section, key] of ALL_IN_ONE) {
      const source = sourceOf(configured, section, key);
      if (source !== 'default') logger.warn({ section, key, source }, `up: [${section}] ${key} (from ${source}) is not used: the all-in-one keeps its state in ${state}`);
    }
    const defaults = config.section(defaultSection);

    const launcher = new Launcher({ logger });
    const bus = await openBus('memory://tenrec', { logger });
    launcher.onStop(() => bus.close());
    const identity = await addIdentity(launcher, { config, logger, stateDir: state, host, port: identityPort, createKeys: true });
    const image = await addImage(launcher, { config, logger, stateDir: state, host, port: imagePort, recoverOlderThanMs: 0 });
    await addNetwork(launcher, { config, logger, stateDir: state, host, port: networkPort, bus, agentHost: defaults.host });
    const storage = await ensureAllInOneStorage(config, state, () => concretePort(0, '127.0.0.1'));
    await addObjectStoreStorage(launcher, { config, logger, stateDir: state, devices: [storage.device], host: storage.host, port: storage.port });
    await addObjectStoreProxy(launcher, { config, logger, stateDir: state, host, port: objectStorePort });
    const [identityEndpoint, imageEndpoint, networkEndpoint, , objectStoreEndpoint] = await launcher.start();
    launcher.installSignalHandlers();

    // Clients are told a name they can reach: not 0.0.0.0.
    const advertised = WILDCARDS.has(host) ? defaults.host : host;
    const authUrl = `${endpointUrl(advertised, identityEndpoint!.port)}/v3`;
    const imageUrl = endpointUrl(advertised, imageEndpoint!.port);
    const networkUrl = endpointUrl(advertised, networkEndpoint!.port);
    const objectStoreUrl = endpointUrl(advertised, objectStoreEndpoint!.port);
    const admin = adminPassword(state, givenAdminPassword(values['admin-password'], io.env));
    const passwordHashCost = identitySettings(config).passwordHashCost;
    const store = identity.deps.store;
    // The admin and the image service user are independent: their password hashes are made side by side.
    await Promise.all([
      bootstrapIdentity(store, { adminPassword: admin.password, publicUrl: authUrl, region: REGION, passwordHashCost }),
      ensureServiceUser(store, { username: IMAGE_SERVICE_USER, password: config.section(imageSection).service_password, project: SERVICE_PROJECT, passwordHashCost }),
      ensureServiceUser(store, { username: NETWORK_SERVICE_USER, password: config.section(networkSection).service_password, project: SERVICE_PROJECT, passwordHashCost }),
      ensureServiceUser(store, { username: OBJECT_STORE_SERVICE_USER, password: config.section(objectStoreSection).service_password, project: SERVICE_PROJECT, passwordHashCost }),
    ]);
    await registerService(store, { type: 'image', name: 'glance', region: REGION, publicUrl: imageUrl });
    await registerService(store, { type: 'network', name: 'neutron', region: REGION, publicUrl: networkUrl });
    // Each project's own account: Identity fills in the project of the token the catalog is for.
    await registerService(store, { type: 'object-store', name: 'swift', region: REGION, publicUrl: `${objectStoreUrl}/v1/${config.section(objectStoreSection).reseller_prefix}$(project_id)s` });

    const localIdentity = endpointUrl(loopbackFor(host), identityEndpoint!.port);
    // One login serves every first-run step that needs an admin token (each costs a password hash).
    let token: Promise<string> | undefined;
    const adminToken = () =>
      (token ??= new IdentityClient(localIdentity).passwordLogin({ username: 'admin', password: admin.password, project: 'admin' }, { nocatalog: true }).then((t) => t.token));
    const starter = await ensureStarterImage(image, endpointUrl(loopbackFor(host), imageEndpoint!.port), adminToken, logger);
    await ensureStarterNetworks(endpointUrl(loopbackFor(host), networkEndpoint!.port), adminToken, logger);
    await ensureResellerAdminRole(localIdentity, adminToken, config.section(objectStoreSection).reseller_admin_role, logger);

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
      ['image', imageUrl],
      ['network', networkUrl],
      ['object-store', `${objectStoreUrl}/v1/AUTH_<project id>`],
      [
        'admin password',
        admin.generated ? `${admin.password}  (generated; shown only now, kept in ${admin.file})` : `in ${admin.file}`,
      ],
      ['clouds.yaml', `${written.cloudsYaml}${merged.ok ? `  (cloud "${CLOUD_NAME}", also in ${merged.path})` : `  (cloud "${CLOUD_NAME}")`}`],
      ['openrc', written.openrc],
      ['state', state],
    ];
    if (starter.id) rows.splice(2, 0, ['starter image', `${STARTER_IMAGE_NAME} (${starter.id})${starter.uploaded ? ', uploaded now' : ''}`]);
    const width = Math.max(...rows.map(([k]) => k.length));
    io.out(
      [
        'Tenrec all-in-one',
        ...rows.map(([k, v]) => `  ${k.padEnd(width)}  ${v}`),
        '',
        `  openstack --os-cloud ${CLOUD_NAME} image list     or     source ${written.openrc}`,
        `  stop: Ctrl-C or kill -TERM ${process.pid}`,
        '',
        // From process start (node's time origin): what a user waits for.
        `ready in ${Math.round(performance.now())} ms`,
      ].join('\n'),
    );
    return new Promise<number>(() => {}); // the launcher exits the process at stop
  },
});
