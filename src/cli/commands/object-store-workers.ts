// tenrec object-store replicate|audit|update|expire: the storage node's background workers as
// commands (Swift's swift-object-replicator, -auditor, -updater, swift-object-expirer). With
// --once, one pass, its counts printed as JSON; without, a pass every [object-store]
// <worker>_interval seconds until SIGTERM — for running them as their own processes, with
// the storage server's intervals set to 0. Run on a storage host, with the devices and the
// port the storage server there has: the devices the rings put at this host and port are the
// ones worked on.
import { join } from 'node:path';
import { Launcher } from '../../core/service.ts';
import { objectStoreSection } from '../../object-store/settings.ts';
import { NodeWorkers, nodeWorkerSettings, type WorkerName } from '../../object-store/workers/node-workers.ts';
import { defineCommand, portFlag, UsageError, type Command, type Options } from '../command.ts';
import { cliLogger, configFileOption, loadCliConfig, stateDir, stateDirOption } from '../config.ts';

const WHAT: Record<WorkerName, string> = {
  replicate: `Pushes objects, container and account databases to the other primaries of their
partitions (and what sits on a handoff to its primaries, removing it once they all have it);
removes tombstones and deleted rows older than [object-store] reclaim_age.`,
  audit: `Reads every object and checks it against its ETag, at most [object-store]
auditor_files_per_second and auditor_bytes_per_second; a corrupt copy is quarantined, for the
replicator to restore.`,
  update: `Sends the container updates object servers saved when a container server did not
answer (async_pending), and reports containers whose counts their accounts have not heard.`,
  expire: `Deletes the objects whose X-Delete-At has passed (through the proxy code in this
process, using the rings), and removes them from the expiry queue.`,
};

const INTERVAL_KEY = { replicate: 'replicator_interval', audit: 'auditor_interval', update: 'updater_interval', expire: 'expirer_interval' } as const;

const options = {
  once: { type: 'boolean', help: 'run one pass, print its counts and exit' },
  devices: { type: 'string', multiple: true, metavar: 'DIR', help: 'a device directory of this node, repeatable (default: [object-store] devices)' },
  port: { type: 'string', metavar: 'PORT', help: "this node's storage server port, as the rings name it (default: [object-store] storage_port)" },
  'config-file': configFileOption,
  'state-dir': stateDirOption,
} as const satisfies Options;

function workerCommand(name: WorkerName): Command<typeof options> {
  return defineCommand({
    name: `object-store ${name}`,
    description: `${WHAT[name]}
Without --once it repeats every [object-store] ${INTERVAL_KEY[name]} seconds until SIGTERM.`,
    options,
    async run({ values, io }) {
      const config = loadCliConfig(values['config-file'], io.env);
      const s = config.section(objectStoreSection);
      const logger = cliLogger(config);
      const devices = values.devices ?? s.devices;
      if (devices.length === 0) throw new UsageError('which devices? --devices DIR... or [object-store] devices');
      const port = portFlag(values.port, 'port', s.storage_port);
      const seconds = s[INTERVAL_KEY[name]] || 30;
      const workers = new NodeWorkers({
        devices,
        ringDir: s.ring_dir || join(stateDir(values['state-dir'], io.env, config), 'object-store'),
        hash: { prefix: s.hash_path_prefix, suffix: s.hash_path_suffix },
        port: () => port,
        logger,
        // only this worker, when not --once
        settings: { ...nodeWorkerSettings(config), intervals: { replicate: 0, audit: 0, update: 0, expire: 0, [name]: seconds } },
      });
      if (values.once) {
        try {
          const stats = await workers.run(name);
          if (stats === undefined) {
            io.err(`tenrec: no ${name} pass: the rings cannot be loaded (see the log)`);
            return 1;
          }
          io.out(JSON.stringify(stats));
          return 0;
        } finally {
          await workers.close();
        }
      }
      // Scheduled by the workers, not the launcher: their close() stops a pass in progress, where
      // the launcher would wait for it to end before running its stop hooks.
      const launcher = new Launcher({ logger });
      launcher.onStop(() => workers.close());
      await launcher.start();
      launcher.installSignalHandlers();
      workers.start();
      io.out(`object-store ${name}: a pass every ${seconds} s on ${devices.join(', ')}`);
      return new Promise<number>(() => {}); // the launcher exits the process at stop
    },
  });
}

export const replicate = workerCommand('replicate');
export const audit = workerCommand('audit');
export const update = workerCommand('update');
export const expire = workerCommand('expire');
