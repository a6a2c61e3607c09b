// The object expirer (Swift's obj/expirer.py). Object servers queue every object with an
// X-Delete-At as a task "<delete-at>-<account>/<container>/<object>" in a container of the
// .expiring_objects account named for its day (storage/object/expirer-queue.ts). Each pass
// lists the task containers whose day has come and, for every task whose time has passed:
//  - DELETEs the object through the proxy "as of" its expiry (X-Timestamp = the delete-at
//    time) with X-If-Delete-At, so an object re-PUT or given another expiry since is left
//    alone (412), and the tombstones and container listings follow as for any DELETE;
//  - removes the task from the queue's container servers directly (Swift's
//    direct_delete_container_entry), once the delete took — or, if the object could not be
//    found or did not match, once the task is older than reclaim_age (a replica may still
//    bring the object back until then);
// and removes task containers left empty. With several expirers, `processes` and `process`
// split the tasks between them by a hash of their names.
import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import { address } from '../ring/ring-data.ts';
import type { Ring } from '../ring/types.ts';
import type { BackendClient } from '../storage/backend-client.ts';
import { EXPIRER_ACCOUNT } from '../storage/object/expirer-queue.ts';
import { backendPath, SERVER_TYPE_HEADER } from '../storage/request-path.ts';
import { Timestamp } from '../storage/timestamp.ts';
import type { InternalClient } from './internal-client.ts';
import { RateLimiter } from './rate-limiter.ts';
import { DEFAULT_RECLAIM_AGE_SECONDS } from './reclaim.ts';

export interface ExpirerOptions {
  /** the proxy pipeline, in process */
  client: InternalClient;
  /** for removing tasks from the queue's container servers */
  containerRing: () => Ring;
  backend: BackendClient;
  logger: Logger;
  reclaimAgeSeconds?: number;
  /** how many expirers share the work (0 or 1: this one does it all) */
  processes?: number;
  /** which of them this is, 0-based */
  process?: number;
  /** deletes per second (Swift's tasks_per_second, 50) */
  tasksPerSecond?: number;
  now?: () => number;
  /** stops a pass in progress at the next task (the storage server is shutting down) */
  signal?: AbortSignal;
}

export interface ExpirerStats {
  expired: number;
  /** tasks dropped without a delete: the object was gone or had changed, for longer than reclaim_age */
  dropped: number;
  failures: number;
}

interface Task {
  deleteAt: number;
  account: string;
  container: string;
  object: string;
}

/** "<10 digits>-<a>/<c>/<o>" into its parts; undefined when it is not one. */
export function parseTaskName(name: string): Task | undefined {
  const m = /^(\d+)-([^/]+)\/([^/]+)\/([\s\S]+)$/.exec(name);
  return m ? { deleteAt: Number(m[1]), account: m[2]!, container: m[3]!, object: m[4]! } : undefined;
}

/** int(md5(name), 16) % divisor, as Swift splits tasks between expirers. */
function hashMod(name: string, divisor: number): number {
  return Number(BigInt(`0x${createHash('md5').update(name, 'utf8').digest('hex')}`) % BigInt(divisor));
}

export class ObjectExpirer {
  private readonly limiter: RateLimiter;
  private readonly now: () => number;

  constructor(private readonly opts: ExpirerOptions) {
    this.limiter = new RateLimiter(opts.tasksPerSecond ?? 50);
    this.now = opts.now ?? (() => Date.now() / 1000);
  }

  private get stopped(): boolean {
    return this.opts.signal?.aborted === true;
  }

  async runOnce(): Promise<ExpirerStats> {
    const stats: ExpirerStats = { expired: 0, dropped: 0, failures: 0 };
    const now = this.now();
    const containers: string[] = [];
    for await (const entry of this.opts.client.listing(`/v1/${EXPIRER_ACCOUNT}`)) {
      if (!/^\d+$/.test(entry.name)) {
        this.opts.logger.error({ container: entry.name }, 'expirer: skipping a task container that is not a time');
        continue;
      }
      // Named for days in order: the first one in the future ends the list.
      if (Number(entry.name) > now) break;
      containers.push(entry.name);
    }
    for (const container of containers) {
      if (this.stopped) break;
      try {
        await this.runContainer(container, now, stats);
      } catch (err) {
        stats.failures += 1;
        this.opts.logger.error({ err, container }, 'expirer: a task container could not be processed');
      }
    }
    this.opts.logger.info(stats, `object expirer pass ${this.stopped ? 'stopped' : 'done'}`);
    return stats;
  }

  private async runContainer(container: string, now: number, stats: ExpirerStats): Promise<void> {
    const path = `/v1/${EXPIRER_ACCOUNT}/${container}`;
    let empty = true;
    for await (const entry of this.opts.client.listing(path)) {
      empty = false;
      const task = parseTaskName(entry.name);
      if (!task) {
        this.opts.logger.error({ container, task: entry.name }, 'expirer: skipping a task whose name is not <time>-<a>/<c>/<o>');
        continue;
      }
      if (task.deleteAt > now) break; // names sort by time: the rest are later still
      const processes = this.opts.processes ?? 0;
      if (processes > 1 && hashMod(`${container}/${entry.name}`, processes) !== (this.opts.process ?? 0)) continue;
      await this.limiter.wait(1, this.opts.signal);
      if (this.stopped) return;
      try {
        const outcome = await this.expire(task, now);
        if (outcome === 'retry') {
          stats.failures += 1;
          continue;
        }
        await this.popQueue(container, entry.name);
        stats[outcome] += 1;
      } catch (err) {
        stats.failures += 1;
        this.opts.logger.error({ err, task: entry.name }, 'expirer: deleting an object failed');
      }
    }
    if (empty) {
      const res = await this.opts.client.request('DELETE', path);
      if (![204, 404, 409].includes(res.status)) this.opts.logger.warn({ container, status: res.status }, 'expirer: could not remove an empty task container');
    }
  }

  /** DELETE "as of" the expiry, only if the object still expires then. */
  private async expire(task: Task, now: number): Promise<'expired' | 'dropped' | 'retry'> {
    const at = Timestamp.fromSeconds(task.deleteAt).normal;
    const res = await this.opts.client.request('DELETE', `/v1/${task.account}/${task.container}/${task.object}`, {
      headers: { 'x-timestamp': at, 'x-if-delete-at': at, 'x-backend-clean-expiring-object-queue': 'no' },
    });
    if ((res.status >= 200 && res.status < 300) || res.status === 409) return 'expired';
    if ((res.status === 404 || res.status === 412) && task.deleteAt < now - (this.opts.reclaimAgeSeconds ?? DEFAULT_RECLAIM_AGE_SECONDS)) return 'dropped';
    this.opts.logger.info({ status: res.status, object: `/${task.account}/${task.container}/${task.object}` }, 'expirer: delete not done yet (will retry)');
    return 'retry';
  }

  /** Removes the task row from every primary of its queue container; one that misses it hears of it from the others' replication. */
  private async popQueue(container: string, task: string): Promise<void> {
    const { partition, nodes } = this.opts.containerRing().getNodes(EXPIRER_ACCOUNT, container);
    const headers = { 'x-timestamp': Timestamp.now().internal, [SERVER_TYPE_HEADER]: 'container', 'user-agent': `object-expirer ${process.pid}` };
    await Promise.all(
      nodes.map(async (node) => {
        try {
          await this.opts.backend.send({ host: address(node), method: 'DELETE', path: backendPath(node.device, partition, EXPIRER_ACCOUNT, container, task), headers });
        } catch (err) {
          this.opts.logger.info({ err: (err as Error).message, node: `${address(node)}/${node.device}` }, 'expirer: could not remove a task from one queue replica');
        }
      }),
    );
  }
}

