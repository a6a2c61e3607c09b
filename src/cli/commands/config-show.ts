// tenrec config show: what every option is and where its value came from, secrets masked.
import { formatConfig } from '../../core/config/index.ts';
import { defineCommand } from '../command.ts';
import { configFileOption, loadCliConfig } from '../config.ts';

export const command = defineCommand({
  name: 'config show',
  description: `
Prints every known section ([DEFAULT] and each service's) as INI, each value followed by
its source: default, a file, or a TENREC_<SECTION>_<KEY> environment variable. Secret
options and passwords inside URLs are shown as ****. Any unknown section or option in the
files or the environment is an error, so this also checks a configuration.`,
  options: {
    'config-file': configFileOption,
  },
  async run({ values, io }) {
    io.out(formatConfig(loadCliConfig(values['config-file'], io.env)).trimEnd());
    return 0;
  },
});
