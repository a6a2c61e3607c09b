// One storage server: the account, container and object servers of a node's devices behind
// one Handler (serve it with handlerApp()). A request goes to the server its path's depth
// names (/d/p/a → account, /d/p/a/c → container, /d/p/a/c/o → object), except the updates
// servers send one level up, which say where they go in X-Backend-Server-Type (an object
// server's PUT /d/p/a/c/o to a container, a container server's PUT /d/p/a/c to an account).
// The protocol and the on-disk layout are in README.md.
import type { Logger } from 'pino';
import type { Handler, SwiftRequest, SwiftResponse } from '../pipeline.ts';
import { AccountController } from './account/controller.ts';
import { BackendClient } from './backend-client.ts';
import { AccountReportQueue } from './container/account-reports.ts';
import { ContainerController } from './container/controller.ts';
import { DbHandleCache } from './db/handle-cache.ts';
import { DeviceSet } from './devices.ts';
import type { ServerType } from './header-families.ts';
import { PathHasher } from './layout.ts';
import { ContainerUpdates } from './object/container-updates.ts';
import { ObjectContext } from './object/context.ts';
import { handleObject } from './object/controller.ts';
import { DiskObjects } from './object/disk-object.ts';
import { suffixHashes } from './replicate.ts';
import { handleDbSync } from '../workers/db-sync-server.ts';
import { parseStoragePath, SERVER_TYPE_HEADER, type StoragePath } from './request-path.ts';
import { HttpError, insufficientStorage, json, plain } from './responses.ts';

export interface StorageHandlerOptions {
  /** device directories; each is served under its last path component */
  devices: string[];
  logger: Logger;
  /** swift.conf's swift_hash_path_prefix / _suffix: the same on every node */
  hashPrefix: string;
  hashSuffix: string;
  /** how long an object write waits for its container updates before answering anyway (Swift's container_update_timeout, 1 s) */
  containerUpdateTimeoutMs?: number;
  /** how long an update to another server may take (Swift's node_timeout, 3 s) */
  nodeTimeoutMs?: number;
  /** how long connecting to another server may take (Swift's conn_timeout, 0.5 s) */
  connTimeoutMs?: number;
  /** how long an upload may send nothing before it is dropped (Swift's client_timeout, 60 s) */
  clientTimeoutMs?: number;
}

export interface StorageServer {
  handler: Handler;
  /** Waits for updates in flight, then closes connections and databases. */
  close(): Promise<void>;
}

export function createStorageHandler(opts: StorageHandlerOptions): StorageServer {
  const logger = opts.logger;
  const devices = new DeviceSet(opts.devices);
  const hasher = new PathHasher({ prefix: opts.hashPrefix, suffix: opts.hashSuffix });
  const cache = new DbHandleCache();
  const client = new BackendClient({ connectMs: opts.connTimeoutMs ?? 500, responseMs: opts.nodeTimeoutMs ?? 3000 });
  const updates = new ContainerUpdates(client, logger, opts.containerUpdateTimeoutMs ?? 1000);
  const objects = new ObjectContext(new DiskObjects(logger), updates, hasher, logger, opts.clientTimeoutMs ?? 60_000);
  const reports = new AccountReportQueue(client, logger);
  const containers = new ContainerController(cache, hasher, client, reports, logger);
  const accounts = new AccountController(cache, hasher);

  async function route(req: SwiftRequest): Promise<SwiftResponse> {
    const path = parseStoragePath(req.path);
    const devicePath = devices.path(path.device);
    if (devicePath === undefined) return insufficientStorage(path.device);
    const { partition, account, container, object } = path;
    if (req.method === 'REPORT') {
      // Database replication names the server it is for (workers/db-sync-protocol.ts); object replication's hashes do not.
      const kind = req.headers[SERVER_TYPE_HEADER];
      if (kind === 'account' || kind === 'container') return handleDbSync({ cache, hasher, devicePath, kind, partition, hash: account ?? '' }, req);
      return report(devicePath, path);
    }
    const type = serverType(req, path);
    if (!account || (type !== 'account' && !container) || (type === 'object' && !object) || (type === 'account' && object)) {
      return plain(400, `Invalid path: ${encodeURI(req.path)}`);
    }
    if (type === 'account') return accounts.handle({ req, devicePath, partition, account, container });
    if (type === 'container') return containers.handle({ req, devicePath, partition, account, container: container!, object });
    const hash = hasher.hash(account, container, object);
    return handleObject(objects, {
      req,
      devicePath,
      account,
      container: container!,
      object: object!,
      location: { devicePath, partition, hash, name: `/${account}/${container}/${object}` },
    });
  }

  const handler: Handler = async (req) => {
    try {
      return await route(req);
    } catch (err) {
      if (err instanceof HttpError) return err.response;
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOSPC' || code === 'EDQUOT') return insufficientStorage(req.path.split('/')[1] ?? '');
      throw err;
    }
  };

  return {
    handler,
    async close() {
      await updates.settle();
      await reports.settle();
      client.close();
      cache.closeAll();
    },
  };
}

/** Which server a request is for: X-Backend-Server-Type when given, else the depth of its path (see the top of this file). */
function serverType(req: SwiftRequest, path: StoragePath): ServerType {
  const named = req.headers[SERVER_TYPE_HEADER];
  if (named === 'account' || named === 'container' || named === 'object') return named;
  const h = req.headers;
  if (path.object !== undefined) {
    // An object server's container update that lost its header: X-Size and X-Etag are never sent to an object server.
    const rowUpdate = req.method === 'PUT' && h['x-size'] !== undefined && h['x-etag'] !== undefined && h['x-content-type'] !== undefined && !req.body;
    return rowUpdate ? 'container' : 'object';
  }
  if (path.container !== undefined) {
    // Likewise a container server's account report: X-Put-Timestamp and X-Object-Count only go to account servers.
    const report = req.method === 'PUT' && h['x-put-timestamp'] !== undefined && h['x-object-count'] !== undefined;
    return report ? 'account' : 'container';
  }
  return 'account';
}

/** REPORT /<device>/<partition>[/<suffix>-<suffix>...] */
async function report(devicePath: string, path: StoragePath): Promise<SwiftResponse> {
  if (path.container !== undefined) return plain(400, 'Invalid path');
  const suffixes = path.account?.split('-');
  if (suffixes?.some((s) => !/^[0-9a-f]{3}$/.test(s))) return plain(400, `Invalid suffixes: ${path.account}`);
  return json(200, await suffixHashes(devicePath, path.partition, suffixes));
}
