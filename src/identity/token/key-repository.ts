/**
 * A Fernet key repository laid out as Keystone lays it out, so operators'
 * habits (and their rsync-the-directory-to-every-node scripts) carry over:
 *
 *   <dir>/0      the staged key: accepted for validation, next to become primary
 *   <dir>/<max>  the primary key: signs new tokens
 *   <dir>/<n>    secondary keys: former primaries, still accepted for validation
 *
 * Each file holds one key, 32 random bytes as urlsafe base64 (44 chars).
 * Files whose names are not plain integers (e.g. our temp files) are ignored.
 *
 * Because every node already holds the staged key before it is promoted, a
 * rotation on one node followed by distributing the directory never leaves a
 * node unable to read a token signed by another.
 *
 * Rotation is meant to be run by one process at a time (cron or an operator),
 * as `keystone-manage fernet_rotate` is; it does not lock.
 */
import { chmodSync, closeSync, existsSync, fsyncSync, fchmodSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { generateKey, parseKey } from './fernet.ts';
import { InvalidFernetKey } from './errors.ts';

export const STAGED_KEY_INDEX = 0;
export const DEFAULT_MAX_ACTIVE_KEYS = 3;

const DIR_MODE = 0o700;
const KEY_MODE = 0o600;

export class KeyRepositoryError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'KeyRepositoryError';
  }
}

/** Key indices present in the directory, ascending. */
export function keyIndices(dir: string): number[] {
  if (!existsSync(dir)) {
    throw new KeyRepositoryError(`Fernet key repository ${dir} does not exist; set it up first (setup)`);
  }
  if (!statSync(dir).isDirectory()) {
    throw new KeyRepositoryError(`Fernet key repository ${dir} is not a directory`);
  }
  const indices: number[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (!entry.isFile() || !/^(0|[1-9][0-9]*)$/.test(entry.name)) continue;
    const index = Number(entry.name);
    if (Number.isSafeInteger(index)) indices.push(index);
  }
  return indices.sort((a, b) => a - b);
}

/** Writes a key file so that readers see either no file or the whole key, never a partial one. */
function writeKeyFile(dir: string, index: number, key: string): void {
  const tmp = writeTempKey(dir, key);
  renameSync(tmp, join(dir, String(index)));
  syncDir(dir);
}

function writeTempKey(dir: string, key: string): string {
  const tmp = join(dir, `.tmp-${randomBytes(6).toString('hex')}`);
  const fd = openSync(tmp, 'wx', KEY_MODE);
  try {
    fchmodSync(fd, KEY_MODE); // the umask must not widen or narrow it
    writeSync(fd, key);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  return tmp;
}

/** Makes renames and unlinks durable. Best effort: not every platform can fsync a directory. */
function syncDir(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch {
    // ignore
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/**
 * Creates the repository (mode 0700) and, if it holds no keys yet, writes a
 * staged key 0 and a primary key 1. Running it again changes nothing.
 * An existing directory keeps its mode (operators may have granted a group).
 */
export function setup(dir: string): void {
  if (!existsSync(dir)) {
    mkdirSync(dir, { recursive: true, mode: DIR_MODE });
    chmodSync(dir, DIR_MODE); // mkdir's mode is filtered by the umask; make it exactly 0700
  }
  if (keyIndices(dir).length > 0) return;
  // Staged key first: if we stop half way, a lone key 0 is still a usable repository that rotate() can grow.
  writeKeyFile(dir, STAGED_KEY_INDEX, generateKey());
  writeKeyFile(dir, 1, generateKey());
}

export interface RotationResult {
  /** Index of the new primary key (the former staged key). */
  primary: number;
  /** Indices of the secondary keys removed. */
  removed: number[];
  /** Indices present afterwards, ascending. */
  indices: number[];
}

/**
 * Promotes the staged key 0 to primary (index highest+1), writes a new staged
 * key 0, then removes the oldest secondaries so that at most `maxActiveKeys`
 * keys remain. The staged and primary keys are never removed, hence the
 * minimum of 2.
 */
export function rotate(dir: string, maxActiveKeys: number = DEFAULT_MAX_ACTIVE_KEYS): RotationResult {
  if (!Number.isSafeInteger(maxActiveKeys) || maxActiveKeys < 2) {
    throw new RangeError('maxActiveKeys must be an integer of at least 2 (the staged and the primary key)');
  }
  const before = keyIndices(dir);
  if (before.length === 0) throw new KeyRepositoryError(`Fernet key repository ${dir} contains no keys; set it up first (setup)`);
  if (before[0] !== STAGED_KEY_INDEX) {
    throw new KeyRepositoryError(`Fernet key repository ${dir} has no staged key 0 to promote`);
  }
  const primary = before[before.length - 1]! + 1;

  // New staged key first, fully on disk, so the window without a key 0 is one rename long.
  const tmp = writeTempKey(dir, generateKey());
  renameSync(join(dir, String(STAGED_KEY_INDEX)), join(dir, String(primary)));
  renameSync(tmp, join(dir, String(STAGED_KEY_INDEX)));

  const secondaries = before.filter((i) => i !== STAGED_KEY_INDEX); // ascending, oldest first
  const total = secondaries.length + 2;
  const removed = secondaries.slice(0, Math.max(0, total - maxActiveKeys));
  for (const index of removed) rmSync(join(dir, String(index)));
  syncDir(dir);

  return { primary, removed, indices: keyIndices(dir) };
}

/**
 * Reads every key: primary first (the one `encrypt` uses), then the staged key,
 * then the secondaries newest first (the likeliest to have signed a live token).
 */
export function load(dir: string): string[] {
  const indices = keyIndices(dir);
  if (indices.length === 0) throw new KeyRepositoryError(`Fernet key repository ${dir} contains no keys; set it up first (setup)`);
  const primary = indices[indices.length - 1]!;
  const order = [primary];
  if (primary !== STAGED_KEY_INDEX && indices[0] === STAGED_KEY_INDEX) order.push(STAGED_KEY_INDEX);
  for (let i = indices.length - 2; i >= 0; i--) {
    if (indices[i] !== STAGED_KEY_INDEX) order.push(indices[i]!);
  }
  return order.map((index) => {
    const file = join(dir, String(index));
    const key = readFileSync(file, 'utf8').trim();
    try {
      parseKey(key);
    } catch (err) {
      if (err instanceof InvalidFernetKey) throw new KeyRepositoryError(`Fernet key file ${file} does not hold a valid key`);
      throw err;
    }
    return key;
  });
}
