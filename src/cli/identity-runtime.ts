// Identity under the launcher: its API on a port, its database closed at stop, and its
// Fernet keys re-read after a rotation, so `tenrec identity fernet-rotate` (or keys rsync'ed
// in from another node) reach a running process without a restart:
//   - on SIGHUP (kill -HUP <pid>), as OpenStack services reload;
//   - by itself: every KEY_CHECK_INTERVAL_MS the key directory's mtime is compared with the
//     one seen at the last load (a rotation renames files in it, which changes it).
// A reload that fails (a half-copied directory) keeps the keys in use and is logged.
import { statSync } from 'node:fs';
import type { Config } from '../core/config/index.ts';
import type { Logger } from '../core/log/logger.ts';
import type { Launcher } from '../core/service.ts';
import { createIdentityService, identityKeyRepository, type IdentityService } from '../identity/service.ts';
import { keyIndices } from '../identity/token/key-repository.ts';

export const KEY_CHECK_INTERVAL_MS = 5_000;

export interface IdentityRuntimeOptions {
  config: Config;
  logger: Logger;
  stateDir: string;
  host: string;
  port: number;
  /** the all-in-one creates its keys; a split node expects them in place */
  createKeys: boolean;
}

/** Builds identity and hands it to the launcher (which starts, reloads and stops it). */
export async function addIdentity(launcher: Launcher, opts: IdentityRuntimeOptions): Promise<IdentityService> {
  const service = await createIdentityService({ config: opts.config, logger: opts.logger, stateDir: opts.stateDir, createKeys: opts.createKeys });
  launcher.add({ name: 'identity', app: service.app, port: opts.port, host: opts.host });
  launcher.onStop(() => service.close());

  const keys = new FernetKeyReloader(() => service.reloadKeys(), identityKeyRepository(opts.config, opts.stateDir), opts.logger);
  launcher.onReload(() => keys.reload('SIGHUP'));
  launcher.every(KEY_CHECK_INTERVAL_MS, () => keys.reloadIfChanged(), 'fernet key check');
  return service;
}

export class FernetKeyReloader {
  #seen: number;

  constructor(
    private readonly reloadKeys: () => void,
    private readonly dir: string,
    private readonly logger: Logger,
  ) {
    this.#seen = this.#mtime();
  }

  #mtime(): number {
    try {
      return statSync(this.dir).mtimeMs;
    } catch {
      return Number.NaN;
    }
  }

  /** Re-reads the keys; throws (keeping the old keys) when the directory cannot be read. */
  reload(reason: string): void {
    const mtime = this.#mtime(); // before reading: a change during the read is seen next time
    this.reloadKeys();
    this.#seen = mtime;
    this.logger.info({ reason, dir: this.dir, keys: keyIndices(this.dir) }, 'fernet keys reloaded');
  }

  reloadIfChanged(): void {
    const mtime = this.#mtime();
    if (!Number.isNaN(mtime) && mtime !== this.#seen) this.reload('key repository changed');
  }
}
