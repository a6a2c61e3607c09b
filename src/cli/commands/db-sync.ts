// tenrec db sync [service]: applies pending migrations (keystone-manage db_sync and friends).
import { defineCommand, UsageError } from '../command.ts';
import { configFileOption, loadCliConfig, stateDir as resolveStateDir, stateDirOption } from '../config.ts';
import { describeSync, serviceDatabases, syncDatabase } from '../databases.ts';

export const command = defineCommand({
  name: 'db sync',
  args: '[service]',
  maxPositionals: 1,
  description: `
Services: ${Object.keys(serviceDatabases).join(', ')} (all of them when none is named). Each
service's database is [<service>] connection (empty: SQLite under the state directory).
Prints the migrations applied; running it again applies nothing.`,
  options: {
    'config-file': configFileOption,
    'state-dir': stateDirOption,
  },
  async run({ values, positionals, io }) {
    const [only] = positionals;
    if (only !== undefined && !serviceDatabases[only]) {
      throw new UsageError(`unknown service '${only}' (known: ${Object.keys(serviceDatabases).join(', ')})`);
    }
    const config = loadCliConfig(values['config-file'], io.env);
    const state = resolveStateDir(values['state-dir'], io.env, config);
    for (const service of only ? [only] : Object.keys(serviceDatabases)) {
      io.out(describeSync(await syncDatabase(service, config, state)));
    }
    return 0;
  },
});
