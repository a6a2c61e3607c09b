// The container updater (Swift's container/updater.py): a container server reports its
// container's counts to the account servers as objects come and go, but a report that did not
// reach every account server (one was down) would leave the account's listing and totals
// behind for good. This walks the containers on this node's devices and reports again each
// one whose last complete report is not its current state, to the account ring's primaries.
import { join } from 'node:path';
import type { Logger } from 'pino';
import { address } from '../ring/ring-data.ts';
import type { Ring } from '../ring/types.ts';
import type { BackendClient } from '../storage/backend-client.ts';
import { needsReport, reportContainer } from '../storage/container/account-reports.ts';
import { ContainerDb } from '../storage/container/container-db.ts';
import { DbHandleCache } from '../storage/db/handle-cache.ts';
import type { DeviceSet } from '../storage/devices.ts';
import { CONTAINERS_DIR } from '../storage/layout.ts';
import { RateLimiter } from './rate-limiter.ts';
import { databases } from './walk.ts';

export interface ContainerUpdaterOptions {
  devices: DeviceSet;
  /** the account ring */
  ring: () => Ring;
  client: BackendClient;
  logger: Logger;
  /** containers reported per second (Swift's containers_per_second, 50) */
  containersPerSecond?: number;
  /** stops a pass in progress at the next container (the storage server is shutting down) */
  signal?: AbortSignal;
}

export interface ContainerUpdaterStats {
  reported: number;
  failures: number;
}

export class ContainerUpdater {
  private readonly cache = new DbHandleCache();
  private readonly limiter: RateLimiter;

  constructor(private readonly opts: ContainerUpdaterOptions) {
    this.limiter = new RateLimiter(opts.containersPerSecond ?? 50);
  }

  private get stopped(): boolean {
    return this.opts.signal?.aborted === true;
  }

  async runOnce(): Promise<ContainerUpdaterStats> {
    const stats: ContainerUpdaterStats = { reported: 0, failures: 0 };
    devices: for (const name of this.opts.devices.names) {
      const devicePath = this.opts.devices.path(name);
      if (devicePath === undefined) continue;
      for await (const { file } of databases(join(devicePath, CONTAINERS_DIR))) {
        if (this.stopped) break devices;
        try {
          const names = this.cache.get(file)?.prepare('SELECT account, container FROM container_stat').get() as { account: string; container: string } | undefined;
          if (!names) continue;
          const db = new ContainerDb(this.cache, file, names.account, names.container);
          if (!needsReport(db.info())) continue;
          await this.limiter.wait(1, this.opts.signal);
          if (this.stopped) break devices;
          const { partition, nodes } = this.opts.ring().getNodes(names.account);
          const outcome = await reportContainer(this.opts.client, this.opts.logger, db, {
            partition: String(partition),
            nodes: nodes.map((n) => ({ host: address(n), device: n.device })),
          });
          if (outcome.allSucceeded) stats.reported += 1;
          else stats.failures += 1;
        } catch (err) {
          stats.failures += 1;
          this.opts.logger.error({ err, db: file }, 'reporting a container to its account failed');
        }
      }
    }
    this.opts.logger.info(stats, `container update pass ${this.stopped ? 'stopped' : 'done'}`);
    return stats;
  }

  close(): void {
    this.cache.closeAll();
  }
}
