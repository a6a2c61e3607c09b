// A section schema: the options one part of the code reads from one `[section]`.
// Several schemas may name the same section (each service adds its own options to
// `[DEFAULT]`); loadConfig merges them.
import type { OptionSpec } from './options.ts';

export interface SectionSchema<T> {
  name: string;
  options: { [K in keyof T]: OptionSpec<T[K]> };
}

/** The section every file may have, as in oslo.config; its values are not inherited by others. */
export const DEFAULT_SECTION = 'DEFAULT';

/**
 * Section names are letters, digits, `_` and `-` (`block-storage`); option names are
 * lower_snake_case as in oslo.config, so that the environment variable
 * TENREC_<SECTION>_<KEY> maps back to exactly one option.
 */
export function defineSection<T>(name: string, options: { [K in keyof T]: OptionSpec<T[K]> }): SectionSchema<T> {
  if (!/^[A-Za-z][A-Za-z0-9_-]*$/.test(name)) throw new Error(`config section name ${JSON.stringify(name)} is not valid`);
  for (const key of Object.keys(options)) {
    if (!/^[a-z][a-z0-9_]*$/.test(key)) throw new Error(`config option [${name}] ${JSON.stringify(key)}: use lower_snake_case`);
  }
  return Object.freeze({ name, options: Object.freeze({ ...options }) });
}

/** `TENREC_BLOCK_STORAGE_` for `block-storage`. */
export function envPrefix(section: string): string {
  return `TENREC_${section.toUpperCase().replace(/-/g, '_')}_`;
}

/** The known sections and options once all schemas are merged. */
export interface Registry {
  /** section → key → definition; DEFAULT first (always present), then in schema order */
  sections: Map<string, Map<string, OptionSpec<unknown>>>;
  /** environment variable name → the one option it sets */
  envNames: Map<string, { section: string; key: string }>;
}

/** Merges schemas; two different definitions of one option, or of one env name, throw. */
export function buildRegistry(schemas: readonly SectionSchema<unknown>[]): Registry {
  const sections = new Map<string, Map<string, OptionSpec<unknown>>>([[DEFAULT_SECTION, new Map()]]);
  const envNames = new Map<string, { section: string; key: string }>();
  for (const schema of schemas) {
    const options = sections.get(schema.name) ?? new Map<string, OptionSpec<unknown>>();
    sections.set(schema.name, options);
    for (const [key, spec] of Object.entries<OptionSpec<unknown>>(schema.options as Record<string, OptionSpec<unknown>>)) {
      const known = options.get(key);
      if (known === spec) continue; // the same definition reached through two schemas
      if (known) throw new Error(`config option [${schema.name}] ${key} is defined by two schemas`);
      options.set(key, spec);

      // Sections `block` and `block-storage` could both claim TENREC_BLOCK_STORAGE_SIZE.
      const env = envPrefix(schema.name) + key.toUpperCase();
      const other = envNames.get(env);
      if (other) throw new Error(`config options [${other.section}] ${other.key} and [${schema.name}] ${key} both map to ${env}`);
      envNames.set(env, { section: schema.name, key });
    }
  }
  return { sections, envNames };
}
