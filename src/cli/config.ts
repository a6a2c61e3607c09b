// How commands find their configuration and their state directory.
//
// Files: every --config-file given, in order (later files win); with none given,
// /etc/tenrec/tenrec.conf when it exists. Then TENREC_<SECTION>_<KEY> environment variables
// (see core/config). Every known section is checked, so a typo in any of them is an error
// whatever the command.
//
// State directory: --state-dir, else $TENREC_STATE_DIR, else [DEFAULT] state_dir, else
// ./.tenrec; always made absolute.
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { loadConfig, type Config, type SectionSchema } from '../core/config/index.ts';
import { defaultSection } from '../core/config/common.ts';
import { createLogger, type Logger } from '../core/log/logger.ts';
import { identitySection } from '../identity/settings.ts';
import { imageSection } from '../image/settings.ts';
import { networkSection } from '../network/settings.ts';
import { objectStoreSection } from '../object-store/settings.ts';
import type { OptionDoc } from './command.ts';

export const SYSTEM_CONFIG_FILE = '/etc/tenrec/tenrec.conf';
export const DEFAULT_STATE_DIR = '.tenrec';

/** Every section a Tenrec process knows; each new service adds its own. */
export const knownSchemas: SectionSchema<any>[] = [defaultSection, identitySection, imageSection, networkSection, objectStoreSection];

export const configFileOption = {
  type: 'string',
  multiple: true,
  metavar: 'FILE',
  help: `INI file to read, repeatable, later files winning (default: ${SYSTEM_CONFIG_FILE} when it exists)`,
} as const satisfies OptionDoc;

export const stateDirOption = {
  type: 'string',
  metavar: 'DIR',
  help: `local state: SQLite files, Fernet keys, image data (default: $TENREC_STATE_DIR, else [DEFAULT] state_dir, else ./${DEFAULT_STATE_DIR})`,
} as const satisfies OptionDoc;

export function configFiles(given: string[] | undefined): string[] {
  if (given && given.length > 0) return given;
  return existsSync(SYSTEM_CONFIG_FILE) ? [SYSTEM_CONFIG_FILE] : [];
}

export function loadCliConfig(
  given: string[] | undefined,
  env: Record<string, string | undefined>,
  overrides?: Record<string, Record<string, string>>,
): Config {
  return loadConfig({ files: configFiles(given), env, schemas: knownSchemas, overrides });
}

export function stateDir(flag: string | undefined, env: Record<string, string | undefined>, config: Config): string {
  return resolve(flag || env.TENREC_STATE_DIR || config.section(defaultSection).state_dir || DEFAULT_STATE_DIR);
}

export function cliLogger(config: Config): Logger {
  return createLogger({ level: config.section(defaultSection).log_level });
}

/** Where a config value came from, when it was not its default ('default' otherwise). */
export function sourceOf(config: Config, section: string, key: string): string {
  return config.entries().find((e) => e.section === section && e.key === key)?.source ?? 'default';
}
