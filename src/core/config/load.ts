// Loading: defaults, then files in order, then TENREC_<SECTION>_<KEY> environment
// variables, then overrides (CLI flags); a later layer wins. Every value given is checked,
// even one a later layer replaces, so a broken file is never silently masked.
import { readFileSync } from 'node:fs';
import { Config, type Setting } from './config.ts';
import { ConfigError, didYouMean } from './errors.ts';
import { parseIni } from './ini.ts';
import { showText } from './mask.ts';
import { convert } from './options.ts';
import { buildRegistry, envPrefix, type Registry, type SectionSchema } from './schema.ts';

export interface LoadOptions {
  /** read in order; a missing file is an error (search paths are the caller's business) */
  files?: string[];
  /** defaults to process.env; TENREC_* variables that match no section are ignored */
  env?: Record<string, string | undefined>;
  schemas: SectionSchema<any>[];
  /** section → key → text, e.g. from CLI flags; highest precedence */
  overrides?: Record<string, Record<string, string>>;
}

export function loadConfig(opts: LoadOptions): Config {
  const registry = buildRegistry(opts.schemas);
  const settings = new Map<string, Map<string, Setting>>();
  for (const [section, options] of registry.sections) {
    const defaults = new Map<string, Setting>();
    for (const [key, spec] of options) defaults.set(key, { spec, value: spec.default, source: 'default' });
    if (defaults.size > 0) settings.set(section, defaults);
  }

  const set = (origin: string, section: string, key: string, text: string) => {
    const spec = registry.sections.get(section)?.get(key);
    if (!spec) throw unknownOption(origin, section, key, registry);
    const converted = convert(spec, text);
    if (!converted.ok) {
      const shown = JSON.stringify(showText(spec, text));
      throw new ConfigError(`${origin}: [${section}] ${key}: invalid value ${shown}: expected ${converted.expected}`, {
        origin,
        section,
        key,
      });
    }
    settings.get(section)!.set(key, { spec, value: converted.value, source: origin });
  };

  for (const file of opts.files ?? []) {
    for (const [section, options] of parseIni(readConfigFile(file), file)) {
      if (!registry.sections.has(section)) throw unknownSection(file, section, options, registry);
      for (const [key, text] of options) set(file, section, key, text);
    }
  }

  const env = opts.env ?? process.env;
  for (const name of Object.keys(env).sort()) {
    const text = env[name];
    if (text === undefined || !name.startsWith('TENREC_')) continue;
    const target = registry.envNames.get(name);
    if (target) {
      set(name, target.section, target.key, text);
      continue;
    }
    // The longest matching prefix names the section: `block-storage` over `block`.
    const section = [...registry.sections.keys()]
      .filter((s) => name.startsWith(envPrefix(s)))
      .sort((a, b) => envPrefix(b).length - envPrefix(a).length)[0];
    if (section !== undefined) throw unknownOption(name, section, name.slice(envPrefix(section).length).toLowerCase(), registry);
  }

  for (const [section, options] of Object.entries(opts.overrides ?? {})) {
    for (const [key, text] of Object.entries(options)) {
      if (!registry.sections.has(section)) throw unknownSection('override', section, new Map([[key, text]]), registry);
      set('override', section, key.replace(/-/g, '_'), text);
    }
  }

  return new Config(settings);
}

function readConfigFile(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'config file not found' : `cannot read config file (${code ?? (err as Error).message})`;
    throw new ConfigError(`${file}: ${why}`, { origin: file });
  }
}

function unknownOption(origin: string, section: string, key: string, registry: Registry): ConfigError {
  const hint = didYouMean(key, registry.sections.get(section)?.keys() ?? []);
  return new ConfigError(`${origin}: [${section}] ${key}: unknown option${hint}`, { origin, section, key });
}

function unknownSection(origin: string, section: string, options: Map<string, string>, registry: Registry): ConfigError {
  const key = options.keys().next().value;
  const known = [...registry.sections.keys()];
  const hint = didYouMean(section, known) || ` (known sections: ${known.join(', ')})`;
  const where = key === undefined ? `[${section}]` : `[${section}] ${key}`;
  return new ConfigError(`${origin}: ${where}: unknown section${hint}`, { origin, section, key });
}
