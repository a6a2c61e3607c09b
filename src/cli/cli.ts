// `tenrec <command> [options]`: finds the command, parses its options, runs it, and turns
// what went wrong into an exit status:
//   0  done (or --help)
//   1  the operator must fix something (configuration, database, port in use): one line
//      `tenrec: <message>` on stderr, never a stack trace; or a bug (then with its stack)
//   2  the command line itself is wrong: the message and the usage on stderr
import { readFileSync } from 'node:fs';
import { commandHelp, parseCommandArgs, UsageError, type Command, type Io, type Options } from './command.ts';
import { commands, type CommandEntry } from './registry.ts';

export async function runCli(argv: string[], io: Io): Promise<number> {
  const [first, second] = argv;
  if (first === undefined) {
    io.err(usage());
    return 2;
  }
  if (first === '--help' || first === '-h' || first === 'help') {
    if (argv.length > 1) return runCli([...argv.slice(1), '--help'], io);
    io.out(usage());
    return 0;
  }
  if (first === '--version') {
    io.out(`tenrec ${version()}`);
    return 0;
  }
  if (first.startsWith('-')) {
    io.err(`tenrec: unknown option '${first}'\n\n${usage()}`);
    return 2;
  }

  const entry = findCommand(argv);
  if (!entry) {
    const group = commands.filter((c) => c.name.startsWith(`${first} `));
    if (group.length === 0) {
      io.err(`tenrec: unknown command '${first}'\n\n${usage()}`);
      return 2;
    }
    if (second === '--help' || second === '-h') {
      io.out(groupUsage(first, group));
      return 0;
    }
    const problem = second === undefined ? 'missing command' : `unknown command '${second}'`;
    io.err(`tenrec ${first}: ${problem}\n\n${groupUsage(first, group)}`);
    return 2;
  }

  const command = await entry.load();
  try {
    const parsed = parseCommandArgs(command, argv.slice(entry.name.split(' ').length));
    if (parsed.help) {
      io.out(commandHelp(command, entry.summary));
      return 0;
    }
    return await command.run({ values: parsed.values, positionals: parsed.positionals, io });
  } catch (err) {
    return report(err, entry, command, io);
  }
}

/** The command named by the leading words of argv; the longest name wins. */
function findCommand(argv: string[]): CommandEntry | undefined {
  return [...commands]
    .sort((a, b) => b.name.split(' ').length - a.name.split(' ').length)
    .find((c) => c.name.split(' ').every((word, i) => argv[i] === word));
}

async function report(err: unknown, entry: CommandEntry, command: Command<Options>, io: Io): Promise<number> {
  if (err instanceof UsageError) {
    io.err(`tenrec ${entry.name}: ${err.message}\n\n${commandHelp(command, entry.summary)}`);
    return 2;
  }
  // Loaded only now: by this time the command has loaded the modules it names anyway.
  const { operatorMessage } = await import('./errors.ts');
  const message = operatorMessage(err);
  if (message !== undefined) {
    io.err(`tenrec: ${message}`);
    return 1;
  }
  io.err(`tenrec: unexpected error (a bug in tenrec; please report it):\n${(err as Error)?.stack ?? String(err)}`);
  return 1;
}

function usage(): string {
  const rows = commands.map((c) => [[c.name, c.args].filter(Boolean).join(' '), c.summary] as const);
  const width = Math.max(...rows.map(([name]) => name.length));
  return [
    'usage: tenrec <command> [options]',
    '',
    'Tenrec: an OpenStack-compatible cloud.',
    '',
    'commands:',
    ...rows.map(([name, summary]) => `  ${name.padEnd(width)}  ${summary}`),
    '',
    "Run 'tenrec <command> --help' for a command's options.",
    'Configuration: --config-file FILE (repeatable), else /etc/tenrec/tenrec.conf when it exists;',
    'TENREC_<SECTION>_<KEY> environment variables override the files (e.g. TENREC_IDENTITY_PORT).',
  ].join('\n');
}

function groupUsage(group: string, entries: CommandEntry[]): string {
  const width = Math.max(...entries.map((c) => c.name.length));
  return [
    `usage: tenrec ${group} <command> [options]`,
    '',
    'commands:',
    ...entries.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    `Run 'tenrec ${group} <command> --help' for a command's options.`,
  ].join('\n');
}

function version(): string {
  try {
    return JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')).version;
  } catch {
    return 'unknown';
  }
}
