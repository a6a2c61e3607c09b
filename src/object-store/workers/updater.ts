// The object updater (Swift's obj/updater.py): delivers the container updates object servers
// could not send at the time of a write, saved in <device>/async_pending/<suffix>/<hash>-<time>
// (storage/object/container-updates.ts). Each goes to every primary of its container (the
// container ring decides, the file's targets are only hints); the file is removed once all
// took it, or rewritten with the ones that did, so they are not asked again. A newer update
// for the same object makes older ones pointless: those are removed unsent. A file that
// cannot be read is quarantined to <device>/quarantined/objects/.
import { mkdir, readFile, rename } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { Logger } from 'pino';
import { address } from '../ring/ring-data.ts';
import type { Ring } from '../ring/types.ts';
import type { BackendClient } from '../storage/backend-client.ts';
import type { DeviceSet } from '../storage/devices.ts';
import { writeFileDurably } from '../storage/durable-file.ts';
import { ASYNC_PENDING_DIR, tmpDir } from '../storage/layout.ts';
import { listDir } from '../storage/list-dir.ts';
import type { AsyncPendingUpdate } from '../storage/object/container-updates.ts';
import { QUARANTINE_DIR } from '../storage/quarantine.ts';
import { backendPath, SERVER_TYPE_HEADER } from '../storage/request-path.ts';
import { RateLimiter } from './rate-limiter.ts';
import { isSuffix, removeIfEmpty, unlinkQuietly } from './walk.ts';

/** An async_pending file as the updater keeps it: the server's fields, plus the container devices that have taken it. */
interface PendingFile extends AsyncPendingUpdate {
  successes?: number[];
}

export interface UpdaterOptions {
  devices: DeviceSet;
  /** the container ring */
  ring: () => Ring;
  client: BackendClient;
  logger: Logger;
  /** updates sent per second (Swift's objects_per_second, 50) */
  objectsPerSecond?: number;
  /** stops a pass in progress at the next update (the storage server is shutting down) */
  signal?: AbortSignal;
}

export interface UpdaterStats {
  successes: number;
  failures: number;
  /** older updates of an object dropped unsent */
  outdated: number;
  quarantined: number;
}

function isPendingFile(value: unknown): value is PendingFile {
  const v = value as PendingFile;
  return !!v && (v.op === 'PUT' || v.op === 'DELETE') && typeof v.account === 'string' && typeof v.container === 'string' && typeof v.obj === 'string' && !!v.headers && typeof v.headers === 'object';
}

export class ObjectUpdater {
  private readonly limiter: RateLimiter;

  constructor(private readonly opts: UpdaterOptions) {
    this.limiter = new RateLimiter(opts.objectsPerSecond ?? 50);
  }

  private get stopped(): boolean {
    return this.opts.signal?.aborted === true;
  }

  async runOnce(): Promise<UpdaterStats> {
    const stats: UpdaterStats = { successes: 0, failures: 0, outdated: 0, quarantined: 0 };
    devices: for (const name of this.opts.devices.names) {
      const devicePath = this.opts.devices.path(name);
      if (devicePath === undefined) continue;
      const root = join(devicePath, ASYNC_PENDING_DIR);
      for (const suffix of (await listDir(root)).filter(isSuffix)) {
        const suffixDir = join(root, suffix);
        let lastHash: string | undefined;
        // Newest first: the first file of each object is the one to send.
        for (const file of (await listDir(suffixDir)).sort().reverse()) {
          const path = join(suffixDir, file);
          const dash = file.indexOf('-');
          if (dash < 0) continue;
          const hash = file.slice(0, dash);
          if (hash === lastHash) {
            await unlinkQuietly(path);
            stats.outdated += 1;
            continue;
          }
          lastHash = hash;
          await this.limiter.wait(1, this.opts.signal);
          if (this.stopped) break devices;
          try {
            await this.process(devicePath, path, stats);
          } catch (err) {
            stats.failures += 1;
            this.opts.logger.error({ err, file: path }, 'sending an async update failed');
          }
        }
        await removeIfEmpty(suffixDir);
      }
    }
    this.opts.logger.info(stats, `object update pass ${this.stopped ? 'stopped' : 'done'}`);
    return stats;
  }

  private async process(devicePath: string, path: string, stats: UpdaterStats): Promise<void> {
    let update: unknown;
    try {
      update = JSON.parse(await readFile(path, 'utf8'));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      update = undefined;
    }
    if (!isPendingFile(update)) {
      const target = join(devicePath, QUARANTINE_DIR, 'objects', basename(path));
      await mkdir(dirname(target), { recursive: true });
      await rename(path, target);
      stats.quarantined += 1;
      this.opts.logger.error({ file: path, quarantined: target }, 'quarantined an unreadable async update');
      return;
    }
    const { partition, nodes } = this.opts.ring().getNodes(update.account, update.container);
    const successes = new Set(update.successes ?? []);
    let newSuccesses = false;
    const headers = { ...update.headers, [SERVER_TYPE_HEADER]: 'container', 'user-agent': `object-updater ${process.pid}` };
    await Promise.all(
      nodes
        .filter((node) => !successes.has(node.id))
        .map(async (node) => {
          try {
            const status = await this.opts.client.send({
              host: address(node),
              method: update.op,
              path: backendPath(node.device, partition, update.account, update.container, update.obj),
              headers,
            });
            if (status >= 200 && status < 300) {
              successes.add(node.id);
              newSuccesses = true;
            } else this.opts.logger.info({ status, node: `${address(node)}/${node.device}` }, 'async update refused (will retry)');
          } catch (err) {
            this.opts.logger.info({ err: (err as Error).message, node: `${address(node)}/${node.device}` }, 'async update failed (will retry)');
          }
        }),
    );
    if (nodes.every((node) => successes.has(node.id))) {
      await unlinkQuietly(path);
      stats.successes += 1;
      return;
    }
    stats.failures += 1;
    if (newSuccesses) {
      const rewritten: PendingFile = { ...update, successes: [...successes] };
      await writeFileDurably(tmpDir(devicePath), path, Buffer.from(JSON.stringify(rewritten)));
    }
  }
}
