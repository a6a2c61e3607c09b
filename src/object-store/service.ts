// What the launcher starts for the object store: the proxy (the Swift API, a pipeline of
// middlewares around the proxy app, reading the rings) and the storage server (accounts,
// containers and objects on local devices). One process may run both, as the all-in-one does,
// or either alone on each host.
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { serviceTokenValidator } from '../core/auth/index.ts';
import { defaultSection } from '../core/config/common.ts';
import type { Config } from '../core/config/index.ts';
import { Capabilities } from './capabilities.ts';
import { handlerApp } from './http-server.ts';
import { accountQuotas } from './middleware/account-quotas.ts';
import { bulk } from './middleware/bulk.ts';
import { containerQuotas } from './middleware/container-quotas.ts';
import { copy } from './middleware/copy.ts';
import { formpost } from './middleware/formpost.ts';
import { gatekeeper } from './middleware/gatekeeper.ts';
import { dlo } from './middleware/dlo.ts';
import { healthcheck } from './middleware/healthcheck.ts';
import { keystoneAuth } from './middleware/keystone-auth.ts';
import { listingFormats } from './middleware/listing-formats.ts';
import { slo } from './middleware/slo.ts';
import { symlink } from './middleware/symlink.ts';
import { tempurl } from './middleware/tempurl.ts';
import { versionedWrites } from './middleware/versioned-writes.ts';
import { compose, type Handler, type Middleware } from './pipeline.ts';
import { createProxyHandler } from './proxy/app.ts';
import { loadRings } from './ring/file.ts';
import { objectStoreSection } from './settings.ts';
import { createStorageHandler } from './storage/server.ts';
import { s3Api } from './s3/s3api.ts';
import { s3Token } from './s3/s3token.ts';
import { NodeWorkers, nodeWorkerSettings } from './workers/node-workers.ts';

export interface ObjectStoreProxyOptions {
  config: Config;
  logger: Logger;
  /** where the rings are when [object-store] ring_dir names no directory: <state>/object-store */
  stateDir: string;
}

export interface ObjectStoreProxy {
  app: FastifyInstance;
  /** the whole pipeline, for in-process callers */
  handler: Handler;
  close(): Promise<void>;
}

export interface ObjectStoreStorageOptions {
  config: Config;
  logger: Logger;
  /** device directories; default [object-store] devices */
  devices?: string[];
  /** where the rings are when [object-store] ring_dir names none: <state>/object-store (default [DEFAULT] state_dir) */
  stateDir?: string;
}

export interface ObjectStoreStorage {
  app: FastifyInstance;
  /** the node's replicator, auditor, updater and expirer, scheduled by [object-store] *_interval */
  workers: NodeWorkers;
  close(): Promise<void>;
}

export function ringDir(config: Config, stateDir: string): string {
  return config.section(objectStoreSection).ring_dir || join(stateDir, 'object-store');
}

export async function createObjectStoreProxy(opts: ObjectStoreProxyOptions): Promise<ObjectStoreProxy> {
  const s = opts.config.section(objectStoreSection);
  const logger = opts.logger;
  const rings = loadRings(ringDir(opts.config, opts.stateDir), { prefix: s.hash_path_prefix, suffix: s.hash_path_suffix }, {
    onReloadError: (err) => logger.error({ err }, 'object-store: a changed ring file cannot be loaded; keeping the ring in use'),
  });
  const capabilities = new Capabilities();
  const proxy = createProxyHandler({
    rings: () => rings, logger, capabilities,
    nodeTimeoutMs: s.node_timeout_ms, connTimeoutMs: s.conn_timeout_ms,
    // keystoneauth: an account springs into being on its project's first write
    accountAutocreate: true,
  });
  const validator = serviceTokenValidator(s);
  const auth = keystoneAuth({
    validator,
    authUrl: s.auth_url,
    resellerPrefix: s.reseller_prefix,
    operatorRoles: s.operator_roles,
    resellerAdminRole: s.reseller_admin_role,
    logger,
  });
  // Outermost first, as in Swift's proxy-server.conf pipeline.
  const pipeline: Middleware[] = [
    gatekeeper(),
    healthcheck(),
    listingFormats(),
    // before auth: a signed URL or form needs no token, and bulk's subrequests carry the caller's
    bulk({ logger, capabilities, maxDeletesPerRequest: s.bulk_max_deletes_per_request, maxContainersPerExtraction: s.bulk_max_containers_per_extraction }),
    tempurl({ capabilities, methods: s.tempurl_methods, allowedDigests: s.tempurl_allowed_digests }),
    formpost({ capabilities, allowedDigests: s.tempurl_allowed_digests }),
    s3Api({
      logger, capabilities,
      location: s.s3_location, allowableClockSkew: s.s3_allowable_clock_skew, storageDomains: s.s3_storage_domain,
      dnsCompliantBucketNames: s.s3_dns_compliant_bucket_names, maxBucketListing: s.s3_max_bucket_listing,
      maxPartsListing: s.s3_max_parts_listing, maxMultiDeleteObjects: s.s3_max_multi_delete_objects,
      maxUploadPartNum: s.s3_max_upload_part_num, minSegmentSize: s.s3_min_segment_size,
    }),
    s3Token({
      identityUrl: s.auth_url, serviceToken: (renew) => validator.session.token(renew),
      resellerPrefix: s.reseller_prefix, secretCacheSeconds: s.s3_secret_cache_seconds, logger,
    }),
    auth,
    copy(),
    containerQuotas({ capabilities }),
    accountQuotas({ capabilities }),
    slo({ logger, capabilities }),
    dlo({ logger }),
    versionedWrites({ logger, capabilities }),
    symlink({ capabilities }),
  ];
  const handler = compose(proxy.handler, ...pipeline);
  const app = handlerApp(handler, { service: 'object-store:proxy', logger });
  return {
    app,
    handler,
    close: async () => {
      await app.close();
      await proxy.close();
    },
  };
}

export async function createObjectStoreStorage(opts: ObjectStoreStorageOptions): Promise<ObjectStoreStorage> {
  const s = opts.config.section(objectStoreSection);
  const storage = createStorageHandler({
    devices: opts.devices ?? s.devices,
    logger: opts.logger,
    hashPrefix: s.hash_path_prefix,
    hashSuffix: s.hash_path_suffix,
  });
  const app = handlerApp(storage.handler, { service: 'object-store:storage', logger: opts.logger });
  // The background workers run beside the server, on its devices: the ring devices at its port are ours.
  const stateDir = opts.stateDir ?? opts.config.section(defaultSection).state_dir;
  const workers = new NodeWorkers({
    devices: opts.devices ?? s.devices,
    ringDir: s.ring_dir || (stateDir ? join(stateDir, 'object-store') : undefined),
    hash: { prefix: s.hash_path_prefix, suffix: s.hash_path_suffix },
    port: () => (app.server.address() as AddressInfo | null)?.port,
    logger: opts.logger,
    settings: nodeWorkerSettings(opts.config),
  });
  workers.start();
  return {
    app,
    workers,
    close: async () => {
      await workers.close();
      await app.close();
      await storage.close();
    },
  };
}
