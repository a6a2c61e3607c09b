// tenrec serve <service>[:<process>]: one service's process for a split deployment, against
// the configured database ([<service>] connection: postgresql://... or mysql+pymysql://...)
// and bus ([DEFAULT] transport_url: amqp://...). Migrations are applied first, as
// `tenrec db sync` would. In the foreground until SIGTERM/SIGINT; SIGHUP reloads.
// The image service uses no bus: it validates tokens against [image] auth_url as its
// service user ([image] service_username/service_password/service_project), which an
// operator creates in identity beforehand (as for Glance).
// The object store has two processes and no database: the proxy (object-store:proxy, the
// Swift API, reading the rings) and a storage server (object-store:storage, serving the
// device directories given with --devices or [object-store] devices).
import { openBus } from '../../core/bus/index.ts';
import { maskUrlPassword, type Config } from '../../core/config/index.ts';
import type { Logger } from '../../core/log/logger.ts';
import { defaultSection } from '../../core/config/common.ts';
import { Launcher } from '../../core/service.ts';
import { identitySection } from '../../identity/settings.ts';
import { imageSection } from '../../image/settings.ts';
import { objectStoreSection } from '../../object-store/settings.ts';
import { CliError, defineCommand, UsageError } from '../command.ts';
import { cliLogger, configFileOption, loadCliConfig, stateDir as resolveStateDir, stateDirOption } from '../config.ts';
import { describeSync, syncDatabase } from '../databases.ts';
import { addIdentity } from '../identity-runtime.ts';
import { addImage } from '../image-runtime.ts';
import { addObjectStoreProxy, addObjectStoreStorage } from '../object-store-runtime.ts';
import { ringDir } from '../../object-store/service.ts';

/** What `serve` can run: service → its processes (the first is the default). */
const SERVABLE: Record<string, string[]> = { identity: ['api'], image: ['api'], 'object-store': ['proxy', 'storage'] };

export const command = defineCommand({
  name: 'serve',
  args: '<service>[:<process>]',
  maxPositionals: 1,
  description: `
Services: ${Object.entries(SERVABLE).map(([s, ps]) => `${s} (${ps.join(', ')})`).join('; ')}.
identity listens on [identity] port at [DEFAULT] bind_host, with its database at
[identity] connection (empty: SQLite under the state directory) and its Fernet keys in
[identity] key_repository (empty: <state>/fernet-keys). Stop with SIGTERM or Ctrl-C:
requests in flight finish first. SIGHUP (or a change in the key directory) re-reads the
Fernet keys after \`tenrec identity fernet-rotate\`.

image listens on [image] port at [DEFAULT] bind_host, with its database at [image]
connection (empty: SQLite under the state directory), its file stores under [image]
stores_dir (empty: <state>/images) and staging area in [image] staging_dir (empty:
<state>/image-staging); it validates tokens against [image] auth_url as the user [image]
service_username (password service_password, project service_project).

object-store:proxy listens on [object-store] port at [DEFAULT] bind_host, reading the rings in
[object-store] ring_dir (empty: <state>/object-store; build them with \`tenrec object-store
ring\`), and validates tokens against [object-store] auth_url as the user [object-store]
service_username. object-store:storage listens on [object-store] storage_port and serves the
device directories given with --devices (default: [object-store] devices); every host uses the
same [object-store] hash_path_prefix and hash_path_suffix.`,
  options: {
    'config-file': configFileOption,
    'state-dir': stateDirOption,
    devices: { type: 'string', multiple: true, metavar: 'DIR', help: 'object-store:storage: a device directory to serve, repeatable (default: [object-store] devices)' },
  },
  async run({ values, positionals, io }) {
    const [target] = positionals;
    if (!target) throw new UsageError('which service? e.g. tenrec serve identity');
    const [service = '', proc] = target.split(':');
    const processes = SERVABLE[service];
    if (!processes) throw new UsageError(`unknown service '${service}' (known: ${Object.keys(SERVABLE).join(', ')})`);
    if (proc !== undefined && !processes.includes(proc)) {
      throw new UsageError(`${service} has no process '${proc}' (known: ${processes.join(', ')})`);
    }

    const config = loadCliConfig(values['config-file'], io.env);
    const state = resolveStateDir(values['state-dir'], io.env, config);
    const logger = cliLogger(config);
    const defaults = config.section(defaultSection);

    if (service === 'object-store') return serveObjectStore(proc ?? processes[0]!, { config, logger, state, host: defaults.bind_host, devices: values.devices, out: io.out });
    if (values.devices) throw new UsageError('--devices is for object-store:storage');

    if (service === 'image' && !config.section(imageSection).service_password) {
      throw new CliError('[image] service_password is empty: the image service needs its service user to validate tokens against identity');
    }
    const sync = await syncDatabase(service, config, state);
    logger.info({ applied: sync.applied, database: sync.database }, describeSync(sync));
    const launcher = new Launcher({ logger });
    if (service === 'image') {
      await addImage(launcher, { config, logger, stateDir: state, host: defaults.bind_host, port: config.section(imageSection).port });
      const [endpoint] = await launcher.start();
      launcher.installSignalHandlers();
      io.out(`image listening on ${endpoint!.url} (database ${sync.database}, identity ${maskUrlPassword(config.section(imageSection).auth_url)})`);
    } else {
      const bus = await openBus(defaults.transport_url, { logger });
      launcher.onStop(() => bus.close());
      await addIdentity(launcher, { config, logger, stateDir: state, host: defaults.bind_host, port: config.section(identitySection).port, createKeys: false });
      const [endpoint] = await launcher.start();
      launcher.installSignalHandlers();
      io.out(`identity listening on ${endpoint!.url} (database ${sync.database}, bus ${maskUrlPassword(defaults.transport_url)})`);
    }
    return new Promise<number>(() => {}); // the launcher exits the process at stop
  },
});

async function serveObjectStore(
  proc: string,
  o: { config: Config; logger: Logger; state: string; host: string; devices?: string[]; out: (text: string) => void },
): Promise<number> {
  const s = o.config.section(objectStoreSection);
  const launcher = new Launcher({ logger: o.logger });
  if (proc === 'storage') {
    const devices = o.devices ?? s.devices;
    if (devices.length === 0) throw new UsageError('object-store:storage needs its device directories: --devices DIR... or [object-store] devices');
    await addObjectStoreStorage(launcher, { config: o.config, logger: o.logger, devices, host: o.host, port: s.storage_port, stateDir: o.state });
    const [endpoint] = await launcher.start();
    launcher.installSignalHandlers();
    o.out(`object-store:storage listening on ${endpoint!.url} (devices ${devices.join(', ')})`);
  } else {
    if (o.devices) throw new UsageError('--devices is for object-store:storage');
    if (!s.service_password) throw new CliError('[object-store] service_password is empty: the proxy needs its service user to validate tokens against identity');
    await addObjectStoreProxy(launcher, { config: o.config, logger: o.logger, stateDir: o.state, host: o.host, port: s.port });
    const [endpoint] = await launcher.start();
    launcher.installSignalHandlers();
    o.out(`object-store:proxy listening on ${endpoint!.url} (rings in ${ringDir(o.config, o.state)}, identity ${maskUrlPassword(s.auth_url)})`);
  }
  return new Promise<number>(() => {}); // the launcher exits the process at stop
}
