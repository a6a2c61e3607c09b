// tenrec serve <service>[:<process>]: one service's process for a split deployment, against
// the configured database ([<service>] connection: postgresql://... or mysql+pymysql://...)
// and bus ([DEFAULT] transport_url: amqp://...). Migrations are applied first, as
// `tenrec db sync` would. In the foreground until SIGTERM/SIGINT; SIGHUP reloads.
// The image service uses no bus: it validates tokens against [image] auth_url as its
// service user ([image] service_username/service_password/service_project), which an
// operator creates in identity beforehand (as for Glance).
import { openBus } from '../../core/bus/index.ts';
import { maskUrlPassword } from '../../core/config/index.ts';
import { defaultSection } from '../../core/config/common.ts';
import { Launcher } from '../../core/service.ts';
import { identitySection } from '../../identity/settings.ts';
import { imageSection } from '../../image/settings.ts';
import { CliError, defineCommand, UsageError } from '../command.ts';
import { cliLogger, configFileOption, loadCliConfig, stateDir as resolveStateDir, stateDirOption } from '../config.ts';
import { describeSync, syncDatabase } from '../databases.ts';
import { addIdentity } from '../identity-runtime.ts';
import { addImage } from '../image-runtime.ts';

/** What `serve` can run: service → its processes (the first is the default). */
const SERVABLE: Record<string, string[]> = { identity: ['api'], image: ['api'] };

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
service_username (password service_password, project service_project).`,
  options: {
    'config-file': configFileOption,
    'state-dir': stateDirOption,
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
