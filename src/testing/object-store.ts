// An object store for test suites: N storage servers (one device each) on loopback ports,
// rings of N replicas spreading each partition over all of them, and a proxy in front. A
// storage server can be stopped and started again on its port, for durability tests.
import { mkdirSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { loadConfig, type Config } from '../core/config/index.ts';
import { silentLogger, type Logger } from '../core/log/logger.ts';
import { ObjectStoreClient } from '../clients/object-store.ts';
import type { ObjectStorageClient } from '../image/store/object-storage-client.ts';
import { ServiceAccountStorage } from '../image/store/service-account.ts';
import { ServiceSession, type ServiceCredentials } from '../core/auth/index.ts';
import { ensureRings } from '../object-store/ring/all-in-one.ts';
import { createObjectStoreProxy, createObjectStoreStorage, ringDir, type ObjectStoreProxy, type ObjectStoreStorage } from '../object-store/service.ts';
import { objectStoreSection } from '../object-store/settings.ts';

export interface StorageNode {
  /** the node's one device directory (its name is d<n>) */
  device: string;
  port: number;
  /** whether it is serving now */
  readonly running: boolean;
  /** stops serving (as a host going down); its data stays */
  stop(): Promise<void>;
  /** serves again on the same port */
  start(): Promise<void>;
}

export interface ObjectStoreCluster {
  /** the proxy's base URL, http://127.0.0.1:<port> (accounts under /v1/AUTH_<project id>) */
  url: string;
  proxy: ObjectStoreProxy;
  nodes: StorageNode[];
  ringDir: string;
  config: Config;
  stop(): Promise<void>;
}

export interface ObjectStoreClusterOptions {
  /** the rings are made in <stateDir>/object-store, the devices under <stateDir>/object-store/nodes */
  stateDir: string;
  /** storage servers, and replicas of everything (default 1) */
  replicas?: number;
  /** [object-store] options: auth_url and service_password for the proxy's token checks */
  options?: Record<string, string>;
  logger?: Logger;
}

async function listen(app: ObjectStoreStorage['app'] | ObjectStoreProxy['app'], port = 0): Promise<number> {
  await app.listen({ host: '127.0.0.1', port });
  return (app.server.address() as AddressInfo).port;
}

class LocalStorageNode implements StorageNode {
  #storage?: ObjectStoreStorage;

  constructor(
    readonly device: string,
    public port: number,
    private readonly config: Config,
    private readonly logger: Logger,
    /** where the rings are (<stateDir>/object-store) */
    private readonly stateDir: string,
  ) {}

  get running(): boolean {
    return this.#storage !== undefined;
  }

  async start(): Promise<void> {
    if (this.#storage) return;
    const storage = await createObjectStoreStorage({ config: this.config, logger: this.logger, devices: [this.device], stateDir: this.stateDir });
    this.port = await listen(storage.app, this.port);
    this.#storage = storage;
  }

  async stop(): Promise<void> {
    const storage = this.#storage;
    this.#storage = undefined;
    await storage?.close();
  }
}

export async function startObjectStoreCluster(opts: ObjectStoreClusterOptions): Promise<ObjectStoreCluster> {
  const replicas = opts.replicas ?? 1;
  const logger = opts.logger ?? silentLogger;
  const config = loadConfig({ env: {}, schemas: [objectStoreSection], overrides: { 'object-store': { token_cache_seconds: '0', ...opts.options } } });
  const nodes: LocalStorageNode[] = [];
  try {
    for (let i = 1; i <= replicas; i++) {
      const device = join(opts.stateDir, 'object-store', 'nodes', `n${i}`, `d${i}`);
      mkdirSync(device, { recursive: true });
      const node = new LocalStorageNode(device, 0, config, logger, opts.stateDir);
      await node.start(); // on a free port first: the rings name it
      nodes.push(node);
    }
    const dir = ringDir(config, opts.stateDir);
    ensureRings(dir, nodes.map((n, i) => ({ ip: '127.0.0.1', port: n.port, device: `d${i + 1}` })), replicas);
    const proxy = await createObjectStoreProxy({ config, logger, stateDir: opts.stateDir });
    const url = `http://127.0.0.1:${await listen(proxy.app)}`;
    return {
      url, proxy, nodes, ringDir: dir, config,
      async stop() {
        await proxy.close();
        for (const node of nodes) await node.stop();
      },
    };
  } catch (err) {
    for (const node of nodes) await node.stop();
    throw err;
  }
}

/**
 * The image service's object-store backend's view of an account, logged in as `credentials`
 * (the same adapter the image service uses for its own account).
 */
export function imageStoreClient(identityUrl: string, credentials: ServiceCredentials, accountUrl: string): ObjectStorageClient {
  return new ServiceAccountStorage({ session: new ServiceSession(identityUrl, credentials), accountUrl });
}
