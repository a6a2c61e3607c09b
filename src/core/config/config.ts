// The loaded configuration: typed values per section, and where each one came from.
import type { OptionSpec } from './options.ts';
import type { SectionSchema } from './schema.ts';

/** One option's value and its origin: 'default', a file path, an env var name or 'override'. */
export interface Setting {
  spec: OptionSpec<unknown>;
  value: unknown;
  source: string;
}

export interface ConfigEntry {
  section: string;
  key: string;
  value: unknown;
  source: string;
  secret: boolean;
}

export class Config {
  readonly #settings: ReadonlyMap<string, ReadonlyMap<string, Setting>>;
  readonly #views = new WeakMap<SectionSchema<unknown>, object>();

  /** Made by loadConfig; `settings` holds every known option, in display order. */
  constructor(settings: ReadonlyMap<string, ReadonlyMap<string, Setting>>) {
    this.#settings = settings;
  }

  /** The schema's options as a frozen object. The schema must have been given to loadConfig. */
  section<T>(schema: SectionSchema<T>): T {
    const cached = this.#views.get(schema as SectionSchema<unknown>);
    if (cached) return cached as T;
    const settings = this.#settings.get(schema.name);
    const view: Record<string, unknown> = {};
    for (const [key, spec] of Object.entries(schema.options)) {
      const setting = settings?.get(key);
      if (!setting || setting.spec !== spec) {
        throw new Error(`config section [${schema.name}] option ${key}: schema was not passed to loadConfig`);
      }
      view[key] = setting.value;
    }
    Object.freeze(view);
    this.#views.set(schema as SectionSchema<unknown>, view);
    return view as T;
  }

  /** Every section and option with its value and where it came from. */
  entries(): ConfigEntry[] {
    const entries: ConfigEntry[] = [];
    for (const [section, settings] of this.#settings) {
      for (const [key, { spec, value, source }] of settings) {
        entries.push({ section, key, value, source, secret: spec.secret === true });
      }
    }
    return entries;
  }

  /** The definition of one option, for display; undefined when unknown. */
  spec(section: string, key: string): OptionSpec<unknown> | undefined {
    return this.#settings.get(section)?.get(key)?.spec;
  }
}
