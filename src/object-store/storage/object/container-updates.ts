// After an object PUT, POST or DELETE the object server tells the container server(s) named
// in X-Container-Host / X-Container-Device / X-Container-Partition, so listings follow.
// It waits a little (container_update_timeout) so a listing right after the write usually
// shows it, but never fails the write: an update that does not succeed is saved under
// <device>/async_pending/ for the updater to deliver later (Swift's async_update).
import type { Logger } from 'pino';
import { BackendClient } from '../backend-client.ts';
import { writeFileDurably } from '../durable-file.ts';
import { asyncPendingPath, tmpDir } from '../layout.ts';
import { backendPath, SERVER_TYPE_HEADER } from '../request-path.ts';

/** An async_pending file's JSON (Swift pickles the same fields). */
export interface AsyncPendingUpdate {
  op: 'PUT' | 'DELETE';
  account: string;
  container: string;
  obj: string;
  /** the headers to send with it, X-Backend-Server-Type included */
  headers: Record<string, string>;
  /** where it was sent and failed: hints only, the updater asks the container ring */
  targets: Array<{ host: string; device: string; partition: string }>;
}

export interface UpdateTarget {
  host: string;
  device: string;
  partition: string;
}

/** The container servers a request asks us to update; [] when it names none. */
export function containerTargets(headers: Record<string, string>, logger: Logger, prefix = 'x-container'): UpdateTarget[] {
  const partition = headers[`${prefix}-partition`] ?? '';
  const hosts = (headers[`${prefix}-host`] ?? '').split(',').map((h) => h.trim());
  const devices = (headers[`${prefix}-device`] ?? '').split(',').map((d) => d.trim());
  if (hosts.length !== devices.length) {
    logger.error({ hosts: headers[`${prefix}-host`], devices: headers[`${prefix}-device`] }, 'container update failed: different numbers of hosts and devices in request');
    return [];
  }
  if (!partition) return [];
  return hosts.map((host, i) => ({ host, device: devices[i]!, partition })).filter((t) => t.host && t.device);
}

export interface ObjectUpdate {
  op: 'PUT' | 'DELETE';
  account: string;
  container: string;
  obj: string;
  headers: Record<string, string>;
  targets: UpdateTarget[];
  /** where a failed update is saved: the object's device, its hash and the update's timestamp */
  devicePath: string;
  hash: string;
  timestamp: string;
  /** with no targets, save it to async_pending straight away instead of dropping it */
  queueWithoutTargets?: boolean;
}

export class ContainerUpdates {
  private readonly running = new Set<Promise<void>>();

  constructor(
    private readonly client: BackendClient,
    private readonly logger: Logger,
    /** how long a write waits for its container updates before answering anyway */
    private readonly waitMs: number,
  ) {}

  /** Sends the update to every target; resolves once all are done or after waitMs, whichever is first. */
  async send(update: ObjectUpdate): Promise<void> {
    const headers = { ...update.headers, [SERVER_TYPE_HEADER]: 'container', 'user-agent': `object-server ${process.pid}` };
    const work = update.targets.length
      ? this.deliver({ ...update, headers })
      : update.queueWithoutTargets
        ? this.savePending({ ...update, headers }, [])
        : Promise.resolve();
    this.running.add(work);
    void work.finally(() => this.running.delete(work));
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([work, new Promise<void>((resolve) => (timer = setTimeout(resolve, this.waitMs)))]);
    clearTimeout(timer);
  }

  /** Waits for every update still being sent or saved (for a clean shutdown). */
  async settle(): Promise<void> {
    while (this.running.size) await Promise.allSettled([...this.running]);
  }

  private async deliver(update: ObjectUpdate): Promise<void> {
    const failed: UpdateTarget[] = [];
    await Promise.all(
      update.targets.map(async (target) => {
        try {
          const status = await this.client.send({
            host: target.host,
            method: update.op,
            path: backendPath(target.device, target.partition, update.account, update.container, update.obj),
            headers: update.headers,
          });
          if (status >= 200 && status < 300) return;
          this.logger.error({ status, host: target.host, device: target.device }, 'container update failed (saving for async update later)');
        } catch (err) {
          this.logger.error({ err, host: target.host, device: target.device }, 'container update failed (saving for async update later)');
        }
        failed.push(target);
      }),
    );
    if (failed.length) await this.savePending(update, failed);
  }

  private async savePending(update: ObjectUpdate, targets: UpdateTarget[]): Promise<void> {
    const pending: AsyncPendingUpdate = { op: update.op, account: update.account, container: update.container, obj: update.obj, headers: update.headers, targets };
    try {
      await writeFileDurably(tmpDir(update.devicePath), asyncPendingPath(update.devicePath, update.hash, update.timestamp), Buffer.from(JSON.stringify(pending)));
    } catch (err) {
      this.logger.error({ err, account: update.account, container: update.container, obj: update.obj }, 'could not save an async update');
    }
  }
}
