// Option definitions and how each type turns text (from a file, the environment or a flag)
// into a value. Definitions are checked when made: a default that its own option would
// reject is a programming error.

export type OptionType = 'string' | 'int' | 'float' | 'bool' | 'list' | 'enum' | 'url';

export interface OptionSpec<T> {
  type: OptionType;
  default: T;
  help: string;
  /** shown as `****` by `tenrec config show` and in error messages */
  secret?: boolean;
  min?: number;
  max?: number;
  choices?: readonly string[];
}

export function str(opts: { default?: string; help: string; secret?: boolean }): OptionSpec<string> {
  return define({ type: 'string', default: opts.default ?? '', help: opts.help, secret: opts.secret });
}

export function int(opts: { default: number; help: string; min?: number; max?: number }): OptionSpec<number> {
  return define({ type: 'int', ...opts });
}

export function float(opts: { default: number; help: string; min?: number; max?: number }): OptionSpec<number> {
  return define({ type: 'float', ...opts });
}

/** Accepts true/false, yes/no, on/off, 1/0 in any case. */
export function bool(opts: { default: boolean; help: string }): OptionSpec<boolean> {
  return define({ type: 'bool', ...opts });
}

/** Comma (or newline) separated; items trimmed, empty items dropped. */
export function list(opts: { default?: readonly string[]; help: string }): OptionSpec<string[]> {
  return define({ type: 'list', default: Object.freeze([...(opts.default ?? [])]) as string[], help: opts.help });
}

/** One of a fixed set of strings, compared case-sensitively as oslo.config does. */
export function choice<const C extends string>(opts: { default: NoInfer<C>; choices: readonly C[]; help: string }): OptionSpec<C> {
  return define({ type: 'enum', default: opts.default, help: opts.help, choices: Object.freeze([...opts.choices]) });
}

/** `scheme://...` when not empty; a password inside is masked when shown. */
export function url(opts: { default?: string; help: string; secret?: boolean }): OptionSpec<string> {
  return define({ type: 'url', default: opts.default ?? '', help: opts.help, secret: opts.secret });
}

export type Conversion<T> = { ok: true; value: T } | { ok: false; expected: string };

/** Converts text to the option's type, or says what was expected instead. */
export function convert<T>(spec: OptionSpec<T>, text: string): Conversion<T> {
  return convertAny(spec as OptionSpec<unknown>, text) as Conversion<T>;
}

function convertAny(spec: OptionSpec<unknown>, text: string): Conversion<unknown> {
  const t = text.trim();
  switch (spec.type) {
    case 'string':
      return { ok: true, value: text };
    case 'int':
      if (!/^[+-]?\d+$/.test(t) || !Number.isSafeInteger(Number(t))) return bad(numberExpected('an integer', spec));
      return inRange(Number(t), spec, 'an integer');
    case 'float':
      if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(t) || !Number.isFinite(Number(t))) {
        return bad(numberExpected('a number', spec));
      }
      return inRange(Number(t), spec, 'a number');
    case 'bool': {
      const word = t.toLowerCase();
      if (['true', 'yes', 'on', '1'].includes(word)) return { ok: true, value: true };
      if (['false', 'no', 'off', '0'].includes(word)) return { ok: true, value: false };
      return bad('one of true/false, yes/no, on/off, 1/0');
    }
    case 'list':
      return { ok: true, value: Object.freeze(t.split(/[,\n]/).map((s) => s.trim()).filter((s) => s !== '')) };
    case 'enum':
      return spec.choices?.includes(t) ? { ok: true, value: t } : bad(`one of: ${spec.choices?.join(', ')}`);
    case 'url':
      return t === '' || isUrl(t) ? { ok: true, value: t } : bad('a URL of the form scheme://...');
  }
}

/** True for `scheme://...` that the WHATWG URL parser accepts. */
export function isUrl(text: string): boolean {
  if (!/^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(text)) return false;
  try {
    new URL(text);
    return true;
  } catch {
    return false;
  }
}

function bad(expected: string): Conversion<never> {
  return { ok: false, expected };
}

function inRange(n: number, spec: OptionSpec<unknown>, what: string): Conversion<unknown> {
  const tooLow = spec.min !== undefined && n < spec.min;
  const tooHigh = spec.max !== undefined && n > spec.max;
  return tooLow || tooHigh ? bad(numberExpected(what, spec)) : { ok: true, value: n };
}

function numberExpected(what: string, spec: OptionSpec<unknown>): string {
  const { min, max } = spec;
  if (min !== undefined && max !== undefined) return `${what} between ${min} and ${max}`;
  if (min !== undefined) return `${what} >= ${min}`;
  if (max !== undefined) return `${what} <= ${max}`;
  return what;
}

/** Freezes a definition after checking that its default is one it would accept. */
function define<T>(spec: OptionSpec<T>): OptionSpec<T> {
  const wrong = (why: string) => new Error(`option definition "${spec.help}": ${why}`);
  const value = spec.default as unknown;
  if ((spec.type === 'int' || spec.type === 'float') && spec.min !== undefined && spec.max !== undefined && spec.min > spec.max) {
    throw wrong(`min ${spec.min} is greater than max ${spec.max}`);
  }
  if (spec.type === 'int' && !Number.isSafeInteger(value)) throw wrong(`default ${value} is not an integer`);
  if (spec.type === 'float' && !Number.isFinite(value)) throw wrong(`default ${value} is not a finite number`);
  if ((spec.type === 'int' || spec.type === 'float') && !inRange(value as number, spec as OptionSpec<unknown>, '').ok) {
    throw wrong(`default ${value} is out of range`);
  }
  if (spec.type === 'enum' && !spec.choices?.includes(value as string)) {
    throw wrong(`default ${JSON.stringify(value)} is not one of its choices`);
  }
  if (spec.type === 'url' && value !== '' && !isUrl(value as string)) throw wrong('default is not a URL');
  const clean = Object.fromEntries(Object.entries(spec).filter(([, v]) => v !== undefined));
  return Object.freeze(clean) as unknown as OptionSpec<T>;
}
