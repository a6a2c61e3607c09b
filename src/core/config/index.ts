// Configuration in the style of oslo.config: INI files, TENREC_<SECTION>_<KEY> environment
// variables and overrides, checked against typed section schemas.
//
//   const database = defineSection('database', {
//     connection: url({ default: 'sqlite:///var/lib/tenrec/tenrec.db', help: 'SQLAlchemy-style URL' }),
//     max_pool_size: int({ default: 5, min: 1, help: 'connections per process' }),
//   });
//   const config = loadConfig({ files: ['/etc/tenrec/tenrec.conf'], schemas: [database] });
//   config.section(database).max_pool_size; // number
export { ConfigError } from './errors.ts';
export { parseIni } from './ini.ts';
export { bool, choice, float, int, list, str, url, type OptionSpec, type OptionType } from './options.ts';
export { DEFAULT_SECTION, defineSection, type SectionSchema } from './schema.ts';
export { Config, type ConfigEntry } from './config.ts';
export { loadConfig, type LoadOptions } from './load.ts';
export { formatConfig } from './format.ts';
export { maskUrlPassword } from './mask.ts';
