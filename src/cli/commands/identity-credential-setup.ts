// tenrec identity credential-setup: keystone-manage credential_setup. The keys that encrypt
// stored credentials (EC2/S3 secrets) live apart from the token keys. `up` makes them by itself;
// a split deployment runs this once, then copies the directory to every identity node (a node
// reads them when it first needs them, no restart). There is no rotation command yet: retiring
// a key would first need every blob it encrypted re-encrypted (keystone-manage credential_migrate).
import { identityCredentialKeyRepository } from '../../identity/service.ts';
import { keyIndices, setup } from '../../identity/token/key-repository.ts';
import { defineCommand } from '../command.ts';
import { configFileOption, loadCliConfig, stateDir as resolveStateDir, stateDirOption } from '../config.ts';

export const command = defineCommand({
  name: 'identity credential-setup',
  description: `
Creates [identity] credential_key_repository (empty: <state>/credential-keys), mode 0700, with a
staged key 0 and a primary key 1. A repository that holds keys already is left as it is.`,
  options: {
    'config-file': configFileOption,
    'state-dir': stateDirOption,
  },
  async run({ values, io }) {
    const config = loadCliConfig(values['config-file'], io.env);
    const dir = identityCredentialKeyRepository(config, resolveStateDir(values['state-dir'], io.env, config));
    let existed = false;
    try {
      existed = keyIndices(dir).length > 0;
    } catch {
      // no repository yet
    }
    setup(dir);
    io.out(`${existed ? 'already set up; nothing changed' : 'created'}\nCredential keys in ${dir}: ${keyIndices(dir).join(', ')}`);
    return 0;
  },
});
