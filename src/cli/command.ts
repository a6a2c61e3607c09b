// What a `tenrec` command is: its options (parsed with node:util parseArgs, documented for
// --help) and what it runs. Kept free of heavy imports: `tenrec --help` loads only this.
import { parseArgs } from 'node:util';

export interface OptionDoc {
  type: 'string' | 'boolean';
  multiple?: boolean;
  short?: string;
  /** the value's placeholder in --help, e.g. FILE */
  metavar?: string;
  help: string;
}

export type Options = Record<string, OptionDoc>;

type ValueOf<D extends OptionDoc> = D extends { type: 'boolean' }
  ? D extends { multiple: true } ? boolean[] : boolean
  : D extends { multiple: true } ? string[] : string;

/** Parsed option values; absent options are undefined. */
export type Values<O extends Options> = { [K in keyof O]?: ValueOf<O[K]> };

/** Where a command writes and what environment it reads; tests may pass their own. */
export interface Io {
  /** a line (or lines) to stdout */
  out(text: string): void;
  /** a line (or lines) to stderr */
  err(text: string): void;
  env: Record<string, string | undefined>;
}

export interface CommandContext<O extends Options> {
  values: Values<O>;
  positionals: string[];
  io: Io;
}

export interface Command<O extends Options = Options> {
  /** the words after `tenrec`, e.g. 'db sync' */
  name: string;
  /** synopsis of the positional arguments, e.g. '[service]' */
  args?: string;
  /** how many positional arguments it takes at most (default none) */
  maxPositionals?: number;
  /** what --help says below the synopsis */
  description: string;
  options: O;
  /** the exit status */
  run(ctx: CommandContext<O>): Promise<number>;
}

export function defineCommand<const O extends Options>(command: Command<O>): Command<O> {
  return command;
}

/** A mistake in how the command was called: usage on stderr, exit 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** Something the operator must fix (not a bug): one line on stderr, exit 1. */
export class CliError extends Error {
  override name = 'CliError';
}

const HELP: OptionDoc = { type: 'boolean', short: 'h', help: 'show this help and exit' };

/** Parses argv for `command`; `help` is true when --help was given. Throws UsageError. */
export function parseCommandArgs<O extends Options>(command: Command<O>, argv: string[]): { help: boolean; values: Values<O>; positionals: string[] } {
  const options: Record<string, { type: 'string' | 'boolean'; multiple?: boolean; short?: string }> = {};
  for (const [name, doc] of Object.entries({ ...command.options, help: HELP })) {
    options[name] = { type: doc.type, ...(doc.multiple ? { multiple: true } : {}), ...(doc.short ? { short: doc.short } : {}) };
  }
  let parsed: { values: Record<string, unknown>; positionals: string[] };
  try {
    parsed = parseArgs({ args: argv, options, strict: true, allowPositionals: true });
  } catch (err) {
    // parseArgs' own messages are clear ("Unknown option '--x'"); drop its advice about '--'.
    throw new UsageError((err as Error).message.replace(/\. To specify a positional argument starting with a '-'.*$/s, ''));
  }
  const { help, ...values } = parsed.values;
  if (help) return { help: true, values: values as Values<O>, positionals: parsed.positionals };
  const max = command.maxPositionals ?? 0;
  if (parsed.positionals.length > max) {
    const extra = parsed.positionals.slice(max).map((p) => `'${p}'`).join(' ');
    throw new UsageError(`unexpected argument${parsed.positionals.length - max > 1 ? 's' : ''} ${extra}`);
  }
  return { help: false, values: values as Values<O>, positionals: parsed.positionals };
}

/** `tenrec <name> --help`. */
export function commandHelp(command: Command<Options>, summary: string): string {
  const rows = Object.entries({ ...command.options, help: HELP }).map(([name, doc]) => {
    const flag = `${doc.short ? `-${doc.short}, ` : '    '}--${name}${doc.type === 'string' ? ` ${doc.metavar ?? 'VALUE'}` : ''}`;
    return [flag, doc.help + (doc.multiple && !doc.help.includes('repeatable') ? ' (repeatable)' : '')] as const;
  });
  const width = Math.max(...rows.map(([flag]) => flag.length));
  const synopsis = ['tenrec', command.name, command.args, '[options]'].filter(Boolean).join(' ');
  return [
    `usage: ${synopsis}`,
    '',
    `${summary}.`,
    '',
    command.description.trim(),
    '',
    'options:',
    ...rows.map(([flag, help]) => `  ${flag.padEnd(width)}  ${help}`),
  ].join('\n');
}

/** An integer 0..65535 from a flag, or the fallback when the flag is absent. */
export function portFlag(text: string | undefined, flag: string, fallback: number): number {
  if (text === undefined) return fallback;
  if (!/^\d+$/.test(text) || Number(text) > 65535) throw new UsageError(`--${flag}: expected a port number (0-65535), got '${text}'`);
  return Number(text);
}
