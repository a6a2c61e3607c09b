// The background workers of one storage node (Swift runs each as its own daemon; here the
// storage server runs them beside its HTTP API, or `tenrec object-store <worker> --once` runs
// one pass): the object, container and account replicators, the object auditor, the object
// and container updaters, and the object expirer. Each pass reads the rings afresh (they
// reload themselves when their files change); without rings the ring-bound workers wait,
// logging why, and the auditor still runs. close() stops a pass in progress at its next object
// (or rate-limit wait), so a stopping server never waits out a whole pass.
import type { Logger } from 'pino';
import type { Config } from '../../core/config/index.ts';
import { every, type Stopper } from '../../core/service.ts';
import { Capabilities } from '../capabilities.ts';
import { createProxyHandler } from '../proxy/app.ts';
import { createBackendClient } from '../proxy/backend.ts';
import { loadRings, RingFileError, type Rings } from '../ring/file.ts';
import type { HashSecrets } from '../ring/hash.ts';
import { objectStoreSection } from '../settings.ts';
import { BackendClient } from '../storage/backend-client.ts';
import { DeviceSet } from '../storage/devices.ts';
import { ObjectAuditor, type AuditStats } from './auditor.ts';
import { ContainerUpdater, type ContainerUpdaterStats } from './container-updater.ts';
import { DbReplicator, type DbReplicationStats } from './db-replicator.ts';
import { ObjectExpirer, type ExpirerStats } from './expirer.ts';
import { InternalClient } from './internal-client.ts';
import type { LocalNode } from './local-devices.ts';
import { ObjectReplicator, type ObjectReplicationStats } from './replicator.ts';
import { ObjectUpdater, type UpdaterStats } from './updater.ts';

export type WorkerName = 'replicate' | 'audit' | 'update' | 'expire';
export const WORKER_NAMES: readonly WorkerName[] = ['replicate', 'audit', 'update', 'expire'];

export interface NodeWorkerSettings {
  /** seconds between passes; 0: that worker is not scheduled */
  intervals: Record<WorkerName, number>;
  reclaimAgeSeconds: number;
  auditorFilesPerSecond: number;
  auditorBytesPerSecond: number;
  updaterObjectsPerSecond: number;
  expirerProcesses: number;
  expirerProcess: number;
  nodeTimeoutMs: number;
  connTimeoutMs: number;
}

/** The workers' settings from [object-store]: each worker scheduled by its *_interval. */
export function nodeWorkerSettings(config: Config): NodeWorkerSettings {
  const s = config.section(objectStoreSection);
  return {
    intervals: { replicate: s.replicator_interval, audit: s.auditor_interval, update: s.updater_interval, expire: s.expirer_interval },
    reclaimAgeSeconds: s.reclaim_age,
    auditorFilesPerSecond: s.auditor_files_per_second,
    auditorBytesPerSecond: s.auditor_bytes_per_second,
    updaterObjectsPerSecond: s.updater_objects_per_second,
    expirerProcesses: s.expirer_processes,
    expirerProcess: s.expirer_process,
    nodeTimeoutMs: s.node_timeout_ms,
    connTimeoutMs: s.conn_timeout_ms,
  };
}

export interface NodeWorkersOptions {
  devices: string[];
  /** the ring directory; undefined when none is configured */
  ringDir?: string;
  hash: HashSecrets;
  /** the storage server's port: our devices are the ring's devices at it */
  port: () => number | undefined;
  logger: Logger;
  settings: NodeWorkerSettings;
}

export interface ReplicationPass {
  objects: ObjectReplicationStats;
  containers: DbReplicationStats;
  accounts: DbReplicationStats;
}

export interface UpdatePass {
  objects: UpdaterStats;
  containers: ContainerUpdaterStats;
}

export class NodeWorkers {
  private readonly devices: DeviceSet;
  private readonly replicationClient;
  private readonly updateClient;
  private readonly auditor: ObjectAuditor;
  private rings?: Rings;
  private ringError?: string;
  private proxy?: ReturnType<typeof createProxyHandler>;
  private readonly stoppers: Stopper[] = [];
  /** aborted by close(): every pass checks it between objects and in its rate-limit waits */
  private readonly stopping = new AbortController();

  constructor(private readonly opts: NodeWorkersOptions) {
    const s = opts.settings;
    this.devices = new DeviceSet(opts.devices);
    this.replicationClient = createBackendClient({ connTimeoutMs: s.connTimeoutMs, nodeTimeoutMs: s.nodeTimeoutMs, logger: opts.logger });
    this.updateClient = new BackendClient({ connectMs: s.connTimeoutMs, responseMs: s.nodeTimeoutMs });
    this.auditor = new ObjectAuditor({
      devices: this.devices,
      logger: opts.logger,
      filesPerSecond: s.auditorFilesPerSecond,
      bytesPerSecond: s.auditorBytesPerSecond,
      signal: this.stopping.signal,
    });
  }

  /** The rings, loaded on first use; undefined (and why, logged once) while they cannot be. */
  private currentRings(): Rings | undefined {
    if (this.rings) return this.rings;
    if (!this.opts.ringDir) return this.unavailable('no ring directory is configured ([object-store] ring_dir)');
    try {
      this.rings = loadRings(this.opts.ringDir, this.opts.hash, {
        onReloadError: (err) => this.opts.logger.error({ err }, 'object-store workers: a changed ring file cannot be loaded; keeping the ring in use'),
      });
      this.ringError = undefined;
      return this.rings;
    } catch (err) {
      if (!(err instanceof RingFileError)) throw err;
      return this.unavailable(err.message);
    }
  }

  private unavailable(reason: string): undefined {
    if (reason !== this.ringError) this.opts.logger.warn({ reason }, 'object-store workers: no rings yet; replication, updates and expiry wait for them');
    this.ringError = reason;
    return undefined;
  }

  private localNode(): LocalNode | undefined {
    const port = this.opts.port();
    return port === undefined ? undefined : { devices: this.devices, port };
  }

  async replicate(): Promise<ReplicationPass | undefined> {
    const rings = this.currentRings();
    const node = this.localNode();
    if (!rings || !node) return undefined;
    const common = { node, client: this.replicationClient, logger: this.opts.logger, reclaimAgeSeconds: this.opts.settings.reclaimAgeSeconds, signal: this.stopping.signal };
    const objects = await new ObjectReplicator({ ...common, ring: () => rings.object }).runOnce();
    const db = async (kind: 'container' | 'account') => {
      const replicator = new DbReplicator({ ...common, kind, ring: () => rings[kind] });
      try {
        return await replicator.runOnce();
      } finally {
        replicator.close();
      }
    };
    return { objects, containers: await db('container'), accounts: await db('account') };
  }

  audit(): Promise<AuditStats> {
    return this.auditor.runOnce();
  }

  async update(): Promise<UpdatePass | undefined> {
    const rings = this.currentRings();
    if (!rings) return undefined;
    const common = { devices: this.devices, client: this.updateClient, logger: this.opts.logger, signal: this.stopping.signal };
    const objects = await new ObjectUpdater({ ...common, ring: () => rings.container, objectsPerSecond: this.opts.settings.updaterObjectsPerSecond }).runOnce();
    const containerUpdater = new ContainerUpdater({ ...common, ring: () => rings.account });
    try {
      return { objects, containers: await containerUpdater.runOnce() };
    } finally {
      containerUpdater.close();
    }
  }

  async expire(): Promise<ExpirerStats | undefined> {
    const rings = this.currentRings();
    if (!rings) return undefined;
    const s = this.opts.settings;
    this.proxy ??= createProxyHandler({
      rings: () => rings,
      logger: this.opts.logger,
      capabilities: new Capabilities(),
      nodeTimeoutMs: s.nodeTimeoutMs,
      connTimeoutMs: s.connTimeoutMs,
      accountAutocreate: true,
    });
    const expirer = new ObjectExpirer({
      client: new InternalClient(this.proxy.handler, 'expirer'),
      containerRing: () => rings.container,
      backend: this.updateClient,
      logger: this.opts.logger,
      reclaimAgeSeconds: s.reclaimAgeSeconds,
      processes: s.expirerProcesses,
      process: s.expirerProcess,
      signal: this.stopping.signal,
    });
    return expirer.runOnce();
  }

  /** One pass of `name`. */
  run(name: WorkerName): Promise<unknown> {
    return this[name]();
  }

  /** Schedules every worker whose interval is not 0; close() stops them. */
  start(): void {
    for (const name of WORKER_NAMES) {
      const seconds = this.opts.settings.intervals[name];
      if (seconds > 0) this.stoppers.push(every(seconds * 1000, () => this.run(name), { logger: this.opts.logger, name: `object-store ${name}` }));
    }
  }

  /** Stops the passes under way (at their next object) and the schedule, and lets go of connections. */
  async close(): Promise<void> {
    this.stopping.abort();
    await Promise.all(this.stoppers.splice(0).map((stop) => stop()));
    this.replicationClient.agent.destroy();
    this.updateClient.close();
    await this.proxy?.close();
  }
}
