// tenrec identity fernet-rotate: keystone-manage fernet_rotate. The staged key becomes the
// primary, a new staged key is written, and the oldest secondaries go so that at most
// [identity] max_active_keys remain. Run it on one node, then copy the directory to the others.
import { identityKeyRepository } from '../../identity/service.ts';
import { identitySection } from '../../identity/settings.ts';
import { rotate, STAGED_KEY_INDEX } from '../../identity/token/key-repository.ts';
import { CliError, defineCommand } from '../command.ts';
import { configFileOption, loadCliConfig, stateDir as resolveStateDir, stateDirOption } from '../config.ts';
import { describeKeys, RELOAD_HINT } from '../fernet-keys.ts';

export const command = defineCommand({
  name: 'identity fernet-rotate',
  description: `
Rotates the keys in [identity] key_repository (empty: <state>/fernet-keys), keeping at most
[identity] max_active_keys (staged + primary + secondaries). Tokens signed with a removed key
stop validating, so keep max_active_keys above token_expiration / rotation interval + 2.`,
  options: {
    'config-file': configFileOption,
    'state-dir': stateDirOption,
  },
  async run({ values, io }) {
    const config = loadCliConfig(values['config-file'], io.env);
    const dir = identityKeyRepository(config, resolveStateDir(values['state-dir'], io.env, config));
    const max = config.section(identitySection).max_active_keys;
    if (max < 2) throw new CliError(`[identity] max_active_keys is ${max}: a rotation needs at least 2 (the staged and the primary key)`);
    const result = rotate(dir, max);
    const notes: Record<number, string> = { [result.primary]: 'promoted from staged', [STAGED_KEY_INDEX]: 'new' };
    io.out(
      [
        describeKeys(dir, notes),
        result.removed.length > 0 ? `removed: ${result.removed.join(', ')} (max_active_keys ${max})` : `removed: none (max_active_keys ${max})`,
        RELOAD_HINT,
      ].join('\n'),
    );
    return 0;
  },
});
