// tenrec identity fernet-setup: keystone-manage fernet_setup. `up` and `serve identity` do
// this by themselves on a first start; a split deployment runs it once, then copies the
// directory to every identity node.
import { identityKeyRepository } from '../../identity/service.ts';
import { keyIndices, setup } from '../../identity/token/key-repository.ts';
import { defineCommand } from '../command.ts';
import { configFileOption, loadCliConfig, stateDir as resolveStateDir, stateDirOption } from '../config.ts';
import { describeKeys } from '../fernet-keys.ts';

export const command = defineCommand({
  name: 'identity fernet-setup',
  description: `
Creates [identity] key_repository (empty: <state>/fernet-keys), mode 0700, with a staged key 0
and a primary key 1. A repository that holds keys already is left as it is.`,
  options: {
    'config-file': configFileOption,
    'state-dir': stateDirOption,
  },
  async run({ values, io }) {
    const config = loadCliConfig(values['config-file'], io.env);
    const dir = identityKeyRepository(config, resolveStateDir(values['state-dir'], io.env, config));
    let existed = false;
    try {
      existed = keyIndices(dir).length > 0;
    } catch {
      // no repository yet
    }
    setup(dir);
    io.out(`${existed ? 'already set up; nothing changed' : 'created'}\n${describeKeys(dir)}`);
    return 0;
  },
});
