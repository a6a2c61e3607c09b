// Rings on disk: <ring_dir>/<kind>.ring.json (what proxies and storage servers read) and
// <kind>.builder.json (what `tenrec object-store ring` edits), each replaced whole by an
// atomic rename. A RingHolder serves one ring file and picks up a new one by itself, as
// Swift's Ring does: it looks at the file at most every reloadSeconds (15, Swift's
// reload_time), so a rebalanced ring copied to a host is used without a restart.
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, statSync, writeSync, constants } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { basename, dirname, join } from 'node:path';
import { RingBuilder, RingBuilderError } from './builder.ts';
import type { HashSecrets } from './hash.ts';
import { checkRingData, RingDataError, StaticRing, type RingData } from './ring-data.ts';
import type { Ring, RingDevice, RingKind } from './types.ts';

export const RING_KINDS: readonly RingKind[] = ['account', 'container', 'object'];
export const DEFAULT_RELOAD_SECONDS = 15;
const RING_FORMAT = 'tenrec-ring/1';

/** A ring or builder file is missing, unreadable or not what it should be; names the file. */
export class RingFileError extends Error {
  override name = 'RingFileError';
}

export const ringFile = (dir: string, kind: RingKind) => join(dir, `${kind}.ring.json`);
export const builderFile = (dir: string, kind: RingKind) => join(dir, `${kind}.builder.json`);

export function writeRingFile(path: string, data: RingData): void {
  writeAtomic(path, JSON.stringify({ format: RING_FORMAT, ...data }) + '\n');
}

export function readRingFile(path: string): RingData {
  const value = readJson(path, 'ring');
  try {
    if ((value as { format?: unknown })?.format !== RING_FORMAT) throw new RingDataError(`not a ring file (format is not '${RING_FORMAT}')`);
    checkRingData(value);
  } catch (err) {
    if (err instanceof RingDataError) throw new RingFileError(`ring file ${path} is invalid: ${err.message}`);
    throw err;
  }
  const { partPower, replicaCount, devices, replica2part2dev } = value;
  return { partPower, replicaCount, devices, replica2part2dev };
}

export function writeBuilderFile(path: string, builder: RingBuilder): void {
  writeAtomic(path, JSON.stringify(builder) + '\n');
}

export function readBuilderFile(path: string): RingBuilder {
  const value = readJson(path, 'ring builder');
  try {
    return RingBuilder.fromJSON(value);
  } catch (err) {
    if (err instanceof RingBuilderError) throw new RingFileError(`ring builder file ${path} is invalid: ${err.message}`);
    throw err;
  }
}

/** Copies `path` into <its dir>/backups/<unix time>.<name>, as swift-ring-builder keeps them. */
export function backupFile(path: string, now = Date.now()): string {
  const target = join(dirname(path), 'backups', `${Math.floor(now / 1000)}.${basename(path)}`);
  writeAtomic(target, readFileSync(path, 'utf8'));
  return target;
}

/** Writes to a temp file beside `path`, fsyncs it, renames it over `path`, fsyncs the directory. */
export function writeAtomic(path: string, text: string, mode = 0o644): void {
  const dir = dirname(path);
  mkdirSync(dir, { recursive: true });
  const tmp = join(dir, `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  const fd = openSync(tmp, 'wx', mode);
  try {
    const bytes = Buffer.from(text, 'utf8');
    for (let done = 0; done < bytes.length; ) done += writeSync(fd, bytes, done);
    fsyncSync(fd);
    closeSync(fd);
    renameSync(tmp, path);
  } catch (err) {
    try {
      closeSync(fd);
    } catch {
      // already closed
    }
    rmSync(tmp, { force: true });
    throw err;
  }
  const dirFd = openSync(dir, constants.O_RDONLY | constants.O_DIRECTORY);
  try {
    fsyncSync(dirFd);
  } finally {
    closeSync(dirFd);
  }
}

function readJson(path: string, what: string): any {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new RingFileError(`${what} file ${path} does not exist`);
    throw new RingFileError(`${what} file ${path} cannot be read: ${(err as Error).message}`);
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new RingFileError(`${what} file ${path} is invalid: not JSON`);
  }
}

export interface RingHolderOptions {
  /** look at the file at most this often; default 15 */
  reloadSeconds?: number;
  /** the clock in ms (tests pass their own) */
  now?: () => number;
  /** a changed file that cannot be loaded: the holder keeps serving the ring it has */
  onReloadError?: (err: RingFileError) => void;
}

/** One ring file, reloaded when it changes. Throws RingFileError when it cannot be loaded at first. */
export class RingHolder implements Ring {
  readonly path: string;
  readonly #secrets: HashSecrets;
  readonly #reloadMs: number;
  readonly #now: () => number;
  readonly #onReloadError: (err: RingFileError) => void;
  #ring: StaticRing;
  #stamp: string;
  #nextCheck: number;

  constructor(path: string, secrets: HashSecrets, options: RingHolderOptions = {}) {
    this.path = path;
    this.#secrets = { ...secrets };
    this.#reloadMs = (options.reloadSeconds ?? DEFAULT_RELOAD_SECONDS) * 1000;
    this.#now = options.now ?? Date.now;
    this.#onReloadError = options.onReloadError ?? (() => {});
    this.#stamp = stampOf(path) ?? '';
    this.#ring = new StaticRing(readRingFile(path), this.#secrets);
    this.#nextCheck = this.#now() + this.#reloadMs;
  }

  /**
   * Looks at the file now. True when a new ring was loaded; throws RingFileError (keeping
   * the ring it has) when the file changed but cannot be loaded.
   */
  reload(): boolean {
    this.#nextCheck = this.#now() + this.#reloadMs;
    const stamp = stampOf(this.path);
    if (stamp === this.#stamp) return false;
    if (stamp === undefined) throw new RingFileError(`ring file ${this.path} does not exist`);
    this.#ring = new StaticRing(readRingFile(this.path), this.#secrets);
    this.#stamp = stamp;
    return true;
  }

  /** The ring to use now, reloaded first when reloadSeconds have passed. */
  get current(): StaticRing {
    if (this.#now() >= this.#nextCheck) {
      try {
        this.reload();
      } catch (err) {
        if (!(err instanceof RingFileError)) throw err;
        this.#onReloadError(err);
      }
    }
    return this.#ring;
  }

  get partPower(): number {
    return this.current.partPower;
  }
  get replicaCount(): number {
    return this.current.replicaCount;
  }
  get devices(): readonly (RingDevice | null)[] {
    return this.current.devices;
  }
  getPartition(account: string, container?: string, object?: string): number {
    return this.current.getPartition(account, container, object);
  }
  getNodes(account: string, container?: string, object?: string): { partition: number; nodes: RingDevice[] } {
    return this.current.getNodes(account, container, object);
  }
  getPartNodes(partition: number): RingDevice[] {
    return this.current.getPartNodes(partition);
  }
  getMoreNodes(partition: number): Iterable<RingDevice> {
    return this.current.getMoreNodes(partition);
  }
}

export type Rings = Record<RingKind, RingHolder>;

/** The account, container and object rings of `dir`. Throws RingFileError naming a file that cannot be loaded. */
export function loadRings(dir: string, secrets: HashSecrets, options: RingHolderOptions = {}): Rings {
  return {
    account: new RingHolder(ringFile(dir, 'account'), secrets, options),
    container: new RingHolder(ringFile(dir, 'container'), secrets, options),
    object: new RingHolder(ringFile(dir, 'object'), secrets, options),
  };
}

/** What identifies one version of the file: an atomic replace makes a new inode. */
function stampOf(path: string): string | undefined {
  try {
    const st = statSync(path);
    return `${st.ino}:${st.mtimeMs}:${st.size}`;
  } catch {
    return undefined;
  }
}
