// tenrec object-store ring <kind> <action>: swift-ring-builder for the account, container
// and object rings in the ring directory. Changes go to <kind>.builder.json; `rebalance`
// assigns partitions and writes <kind>.ring.json, which proxies and storage servers pick up
// by themselves (copy it to every host of a split deployment). Exit status as
// swift-ring-builder: 0 done, 1 a warning (nothing to rebalance, a ring still unbalanced or
// not dispersed), 2 an error (nothing changed on disk).
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig, type Config } from '../../core/config/index.ts';
import { MAX_BALANCE, RingBuilder, RingBuilderError, type NewDevice } from '../../object-store/ring/builder.ts';
import { DeviceSyntaxError, formatDevice, matchesSearch, parseAddValue, parseSearchValue } from '../../object-store/ring/device-syntax.ts';
import {
  backupFile,
  builderFile,
  readBuilderFile,
  readRingFile,
  RING_KINDS,
  ringFile,
  RingFileError,
  writeBuilderFile,
  writeRingFile,
} from '../../object-store/ring/file.ts';
import { address } from '../../object-store/ring/ring-data.ts';
import type { RingDevice, RingKind } from '../../object-store/ring/types.ts';
import { objectStoreSection } from '../../object-store/settings.ts';
import { defineCommand, UsageError, type Io } from '../command.ts';
import { configFileOption, configFiles, knownSchemas, stateDir, stateDirOption } from '../config.ts';

const EXIT_OK = 0;
const EXIT_WARNING = 1;
const EXIT_ERROR = 2;

/** A refusal that leaves the files as they were: one line on stderr, exit 2. */
class RingCommandError extends Error {
  override name = 'RingCommandError';
}

const options = {
  'ring-dir': {
    type: 'string',
    metavar: 'DIR',
    help: 'directory of the ring and builder files (default: [object-store] ring_dir, else <state>/object-store)',
  },
  'config-file': configFileOption,
  'state-dir': stateDirOption,
  seed: { type: 'string', metavar: 'N', help: 'rebalance: a seed for its random choices, for a repeatable result' },
  force: {
    type: 'boolean',
    help: 'create: replace an existing builder (backed up first); rebalance: save even when balance and dispersion changed by less than 1%',
  },
  yes: { type: 'boolean', help: 'remove, set-weight: apply to every device a search value matches (otherwise it must match one)' },
} as const;

interface Context {
  kind: RingKind;
  dir: string;
  builderPath: string;
  ringPath: string;
  args: string[];
  values: { seed?: string; force?: boolean; yes?: boolean };
  io: Io;
}

type Action = (ctx: Context) => number;

const actions: Record<string, { args: string; action: Action }> = {
  create: { args: '<part_power> <replicas> <min_part_hours>', action: create },
  add: { args: '[r<region>]z<zone>-<ip>:<port>/<device>[_<meta>] <weight> [...]', action: add },
  remove: { args: '<search-value> [...]', action: remove },
  'set-weight': { args: '<search-value> <weight> [...]', action: setWeight },
  rebalance: { args: '', action: rebalance },
  show: { args: '', action: show },
  'write-ring': { args: '', action: writeRing },
  'pretend-min-part-hours-passed': { args: '', action: pretendMinPartHoursPassed },
};

export const command = defineCommand({
  name: 'object-store ring',
  args: '<kind> [<action> [args...]]',
  maxPositionals: Number.MAX_SAFE_INTEGER,
  description: `
<kind> is account, container or object. Actions (as swift-ring-builder's):
${Object.entries(actions)
  .map(([name, { args }]) => `  ${[name, args].filter(Boolean).join(' ')}`)
  .join('\n')}
With no action: show. Device changes take effect at the next rebalance, which moves only
the partitions it must, and no partition again within min_part_hours (except those of a
removed device). A search value picks devices: d<id>, r<region>, z<zone>, <ip>, :<port>,
/<device>, _<meta>, combined in that order (e.g. z1-10.0.0.1:6200/sdb).
Exit status: 0 done; 1 a warning (nothing could be rebalanced, or the ring is still not
balanced or dispersed); 2 an error, the files left unchanged.`,
  options,
  async run({ values, positionals, io }) {
    const [kind, name = 'show', ...args] = positionals;
    if (kind === undefined) throw new UsageError('missing <kind>: account, container or object');
    if (!(RING_KINDS as readonly string[]).includes(kind)) throw new UsageError(`unknown ring '${kind}' (expected account, container or object)`);
    const entry = actions[name];
    if (!entry) throw new UsageError(`unknown action '${name}' (expected ${Object.keys(actions).join(', ')})`);
    const dir = values['ring-dir'] || ringDirFromConfig(values['config-file'], values['state-dir'], io.env);
    const ctx: Context = {
      kind: kind as RingKind,
      dir,
      builderPath: builderFile(dir, kind as RingKind),
      ringPath: ringFile(dir, kind as RingKind),
      args,
      values,
      io,
    };
    try {
      return entry.action(ctx);
    } catch (err) {
      if (err instanceof RingCommandError || err instanceof RingBuilderError || err instanceof RingFileError || err instanceof DeviceSyntaxError) {
        io.err(`tenrec: ${err.message}`);
        return EXIT_ERROR;
      }
      throw err;
    }
  },
});

function ringDirFromConfig(files: string[] | undefined, stateFlag: string | undefined, env: Record<string, string | undefined>): string {
  // [object-store] may not be among every command's sections yet; this command needs it.
  const schemas = knownSchemas.some((s) => s.name === objectStoreSection.name) ? knownSchemas : [...knownSchemas, objectStoreSection];
  const config: Config = loadConfig({ files: configFiles(files), env, schemas });
  return config.section(objectStoreSection).ring_dir || join(stateDir(stateFlag, env, config), 'object-store');
}

function create(ctx: Context): number {
  const [partPower, replicas, minPartHours, ...extra] = ctx.args;
  if (minPartHours === undefined || extra.length > 0) throw new UsageError('create takes <part_power> <replicas> <min_part_hours>');
  const builder = new RingBuilder(wholeNumber(partPower!, 'part_power'), wholeNumber(replicas!, 'replicas'), wholeNumber(minPartHours, 'min_part_hours'));
  if (existsSync(ctx.builderPath)) {
    if (!ctx.values.force) throw new RingCommandError(`${ctx.builderPath} already exists; it says where data lives: use --force to replace it`);
    ctx.io.out(`Backed up the old builder to ${backupFile(ctx.builderPath)}`);
  }
  writeBuilderFile(ctx.builderPath, builder);
  ctx.io.out(`Created ${ctx.builderPath}: ${builder.parts} partitions, ${builder.replicas} replicas, min_part_hours ${builder.minPartHours}`);
  return EXIT_OK;
}

function add(ctx: Context): number {
  if (ctx.args.length === 0 || ctx.args.length % 2 !== 0) throw new UsageError(`add takes pairs: ${actions.add!.args}`);
  const builder = loadBuilder(ctx);
  const lines: string[] = [];
  for (let i = 0; i < ctx.args.length; i += 2) {
    const spec: NewDevice = { ...parseAddValue(ctx.args[i]!), weight: weight(ctx.args[i + 1]!) };
    if (spec.region === undefined) ctx.io.err(`WARNING: No region specified for ${ctx.args[i]}. Defaulting to region 1.`);
    const id = builder.addDevice(spec);
    lines.push(`Device ${formatDevice(builder.devices[id]!)} with ${spec.weight} weight got id ${id}`);
  }
  writeBuilderFile(ctx.builderPath, builder);
  ctx.io.out(lines.join('\n'));
  return EXIT_OK;
}

function remove(ctx: Context): number {
  if (ctx.args.length === 0) throw new UsageError(`remove takes ${actions.remove!.args}`);
  const builder = loadBuilder(ctx);
  const devices = ctx.args.flatMap((search) => find(builder, search, ctx));
  const lines: string[] = [];
  for (const dev of unique(devices)) {
    builder.removeDevice(dev.id);
    lines.push(`${formatDevice(dev)} marked for removal and will be removed next rebalance.`);
  }
  writeBuilderFile(ctx.builderPath, builder);
  ctx.io.out(lines.join('\n'));
  return EXIT_OK;
}

function setWeight(ctx: Context): number {
  if (ctx.args.length === 0 || ctx.args.length % 2 !== 0) throw new UsageError(`set-weight takes pairs: ${actions['set-weight']!.args}`);
  const builder = loadBuilder(ctx);
  const lines: string[] = [];
  for (let i = 0; i < ctx.args.length; i += 2) {
    const w = weight(ctx.args[i + 1]!);
    for (const dev of find(builder, ctx.args[i]!, ctx)) {
      builder.setWeight(dev.id, w);
      lines.push(`${formatDevice(dev)} weight set to ${w}`);
    }
  }
  writeBuilderFile(ctx.builderPath, builder);
  ctx.io.out(lines.join('\n'));
  return EXIT_OK;
}

function rebalance(ctx: Context): number {
  noArgs(ctx, 'rebalance');
  const seed = ctx.values.seed === undefined ? undefined : wholeNumber(ctx.values.seed, '--seed');
  const builder = loadBuilder(ctx);
  const devsChanged = builder.devsChanged;
  const secondsLeft = builder.minPartSecondsLeft();
  const lastBalance = builder.getBalance();
  const lastDispersion = builder.everRebalanced ? builder.getDispersion() : undefined;
  const result = builder.rebalance({ seed });
  if (result.moved === 0 && result.removedDevices === 0 && !ctx.values.force) {
    ctx.io.out('No partitions could be reassigned.');
    ctx.io.out(
      secondsLeft > 0
        ? `The time between rebalances must be at least min_part_hours: ${builder.minPartHours} hours (${duration(secondsLeft)} remaining)`
        : 'There is no need to do so at this time',
    );
    return EXIT_WARNING;
  }
  const improved =
    Math.abs(lastBalance - result.balance) >= 1 ||
    (lastBalance === MAX_BALANCE && result.balance === MAX_BALANCE) ||
    lastDispersion === undefined ||
    Math.abs(lastDispersion - result.dispersion) >= 1;
  if (!ctx.values.force && !devsChanged && !improved) {
    ctx.io.out('Cowardly refusing to save rebalance as it did not change at least 1%.');
    return EXIT_WARNING;
  }
  // The builder first: should the ring file not follow, write-ring makes it from the builder.
  writeBuilderFile(ctx.builderPath, builder);
  writeRingFile(ctx.ringPath, builder.toRingData());
  backupFile(ctx.builderPath);
  backupFile(ctx.ringPath);
  ctx.io.out(
    `Reassigned ${result.moved} (${pct((100 * result.moved) / builder.parts)}%) partitions. ` +
      `Balance is now ${pct(result.balance)}.  Dispersion is now ${pct(result.dispersion)}`,
  );
  const rule = '-'.repeat(79);
  if (result.dispersion > 0) {
    ctx.io.out(
      [
        rule,
        `NOTE: Dispersion of ${result.dispersion.toFixed(6)} indicates some parts are not`,
        '      optimally dispersed.',
        '',
        '      You may want to adjust some device weights or add devices in other zones.',
        rule,
      ].join('\n'),
    );
    return EXIT_WARNING;
  }
  if (result.balance > 5) {
    ctx.io.out(
      [
        rule,
        `NOTE: Balance of ${pct(result.balance)} indicates you should push this ring, wait at least`,
        `      ${builder.minPartHours} hours, and rebalance/repush.`,
        rule,
      ].join('\n'),
    );
    return EXIT_WARNING;
  }
  return EXIT_OK;
}

function show(ctx: Context): number {
  noArgs(ctx, 'show');
  const builder = loadBuilder(ctx);
  const devices = builder.devices.filter((d): d is RingDevice => d !== null);
  const regions = new Set(devices.map((d) => d.region)).size;
  const zones = new Set(devices.map((d) => `${d.region}/${d.zone}`)).size;
  const out = [
    `${ctx.builderPath}, build version ${builder.version}`,
    `${builder.parts} partitions, ${builder.replicas.toFixed(6)} replicas, ${regions} regions, ${zones} zones, ` +
      `${devices.length} devices, ${pct(builder.getBalance())} balance, ${pct(builder.getDispersion())} dispersion`,
    `The minimum number of hours before a partition can be reassigned is ${builder.minPartHours} (${duration(builder.minPartSecondsLeft())} remaining)`,
    ringFileState(ctx, builder),
  ];
  const counts = builder.partCounts();
  const balance = builder.balancePerDevice();
  const rows = [
    ['id', 'region', 'zone', 'ip address:port', 'name', 'weight', 'partitions', 'balance', 'flags', 'meta'],
    ...devices
      .sort((a, b) => a.region - b.region || a.zone - b.zone || cmp(a.ip, b.ip) || a.port - b.port || cmp(a.device, b.device))
      .map((d) => [
        String(d.id),
        String(d.region),
        String(d.zone),
        address(d),
        d.device,
        d.weight.toFixed(2),
        String(counts[d.id] ?? 0),
        pct(balance.get(d.id) ?? 0),
        builder.isRemoving(d.id) ? 'DEL' : '',
        d.meta ?? '',
      ]),
  ];
  if (devices.length === 0) out.push('There are no devices in this ring.');
  else out.push(...table(rows).map((line, i) => (i === 0 ? 'Devices: ' : '         ') + line));
  ctx.io.out(out.join('\n'));
  return EXIT_OK;
}

function writeRing(ctx: Context): number {
  noArgs(ctx, 'write-ring');
  const builder = loadBuilder(ctx);
  writeRingFile(ctx.ringPath, builder.toRingData());
  ctx.io.out(`Wrote ${ctx.ringPath}`);
  return EXIT_OK;
}

function pretendMinPartHoursPassed(ctx: Context): number {
  noArgs(ctx, 'pretend-min-part-hours-passed');
  const builder = loadBuilder(ctx);
  builder.pretendMinPartHoursPassed();
  writeBuilderFile(ctx.builderPath, builder);
  ctx.io.out('Every partition may move at the next rebalance.');
  return EXIT_OK;
}

function loadBuilder(ctx: Context): RingBuilder {
  if (!existsSync(ctx.builderPath)) {
    throw new RingCommandError(`ring builder file ${ctx.builderPath} does not exist; start one with 'tenrec object-store ring ${ctx.kind} create <part_power> <replicas> <min_part_hours>'`);
  }
  return readBuilderFile(ctx.builderPath);
}

/** Whether the ring file holds what the builder would write. */
function ringFileState(ctx: Context, builder: RingBuilder): string {
  if (!existsSync(ctx.ringPath)) return `Ring file ${ctx.ringPath} not found, probably it hasn't been written yet`;
  let onDisk: unknown;
  try {
    onDisk = readRingFile(ctx.ringPath);
  } catch (err) {
    if (err instanceof RingFileError) return err.message;
    throw err;
  }
  const current = builder.everRebalanced && JSON.stringify(onDisk) === JSON.stringify(builder.toRingData());
  return `Ring file ${ctx.ringPath} is ${current ? 'up-to-date' : `obsolete (write it with 'tenrec object-store ring ${ctx.kind} write-ring')`}`;
}

/** The devices one search value picks; exactly one unless --yes. */
function find(builder: RingBuilder, text: string, ctx: Context): RingDevice[] {
  const search = parseSearchValue(text);
  const found = builder.devices.filter((d): d is RingDevice => d !== null && matchesSearch(d, search));
  if (found.length === 0) throw new RingCommandError(`Search value '${text}' matched 0 devices. The on-disk ring builder is unchanged.`);
  if (found.length > 1 && !ctx.values.yes) {
    throw new RingCommandError(
      `Search value '${text}' matched ${found.length} devices (${found.map(formatDevice).join(', ')}); ` +
        'add --yes to change them all. The on-disk ring builder is unchanged.',
    );
  }
  return found;
}

function noArgs(ctx: Context, action: string): void {
  if (ctx.args.length > 0) throw new UsageError(`${action} takes no arguments, got '${ctx.args.join(' ')}'`);
}

function wholeNumber(text: string, what: string): number {
  if (!/^\d+$/.test(text)) throw new RingCommandError(`${what} must be a whole number, got '${text}'`);
  return Number(text);
}

function weight(text: string): number {
  const w = Number(text);
  if (text.trim() === '' || !Number.isFinite(w) || w < 0) throw new RingCommandError(`Invalid weight value: '${text}'`);
  return w;
}

function unique(devices: RingDevice[]): RingDevice[] {
  return [...new Map(devices.map((d) => [d.id, d])).values()];
}

const pct = (n: number) => n.toFixed(2);

const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** Like Python's timedelta: "1 day, 2:03:04", "0:59:59". */
function duration(seconds: number): string {
  const days = Math.floor(seconds / 86400);
  const rest = seconds % 86400;
  const hms = `${Math.floor(rest / 3600)}:${String(Math.floor((rest % 3600) / 60)).padStart(2, '0')}:${String(rest % 60).padStart(2, '0')}`;
  return days > 0 ? `${days} day${days > 1 ? 's' : ''}, ${hms}` : hms;
}

/** Columns right-aligned except the last (meta), one space apart. */
function table(rows: string[][]): string[] {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  return rows.map((r) => r.map((cell, c) => (c === r.length - 1 ? cell : cell.padStart(widths[c]!))).join(' ').trimEnd());
}
