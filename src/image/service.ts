// What the launcher starts for the image service: its database (migrated), its stores, the
// HTTP API behind token validation against Identity.
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { createApp, webobFault } from '../core/http/index.ts';
import { Enforcer } from '../core/policy/index.ts';
import { serviceTokenValidator, registerTokenAuth, type ServiceSession } from '../core/auth/index.ts';
import type { Config } from '../core/config/index.ts';
import { openImageData } from './db/database.ts';
import { imageSection } from './settings.ts';
import type { ImageSettings } from './image-settings.ts';
import { imagePolicyDefaults } from './policy.ts';
import { FileStore } from './store/file-store.ts';
import { ObjectStorageStore } from './store/object-store.ts';
import { ServiceAccountStorage } from './store/service-account.ts';
import type { ImageStore } from './store/types.ts';
import { StoreRegistry } from './store/registry.ts';
import type { ImageDeps } from './api/common.ts';
import { registerImageApi } from './api/routes.ts';
import { recoverInterruptedTransfers } from './upload/recovery.ts';
import { importsInFlight } from './upload/import.ts';
import { startOrphanSweep } from './upload/orphan-sweep.ts';

export interface ImageServiceOptions {
  config: Config;
  logger: Logger;
  /** where the all-in-one keeps its SQLite file, stores and staging area when the config names none */
  stateDir: string;
  /**
   * Uploads and imports left unfinished longer than this (a process died mid-way) are put back
   * in order at start, and temporary files that old removed. The all-in-one is the only
   * process, so 0; split API processes sharing a database keep the default, so as not to undo
   * another live process's transfer.
   */
  recoverOlderThanMs?: number;
}

export interface ImageService {
  app: FastifyInstance;
  deps: ImageDeps;
  close(): Promise<void>;
}

export function imageDatabaseUrl(config: Config, stateDir: string): string {
  return config.section(imageSection).connection || `sqlite:///${join(stateDir, 'image.db')}`;
}

export class ImageConfigError extends Error {}

const MiB = 1024 * 1024;
const ENDPOINT_INTERFACE = { publicURL: 'public', internalURL: 'internal', adminURL: 'admin' } as const;
/** store ids and the container name end up in locations and object paths */
const PLAIN_NAME = /^[A-Za-z0-9_.-]+$/;

/**
 * The stores [image] enabled_backends names, as id:type pairs: file stores under stores_dir,
 * and at most one swift store (its swift_store_* options are the section's, as one Glance
 * swift backend's), kept in the image service user's account and reached with `session`.
 */
function buildStores(config: Config, stateDir: string, session: ServiceSession): StoreRegistry {
  const s = config.section(imageSection);
  const base = s.stores_dir || join(stateDir, 'images');
  const stores = s.enabled_backends.map((entry): ImageStore => {
    const [id, type, ...rest] = entry.split(':').map((x) => x.trim());
    if (!id || rest.length > 0 || !PLAIN_NAME.test(id)) throw new ImageConfigError(`[image] enabled_backends: '${entry}' is not id:type`);
    if (type === 'file') return new FileStore({ id, directory: join(base, id), description: `Files under ${join(base, id)}` });
    if (type === 'swift') {
      if (!PLAIN_NAME.test(s.swift_store_container)) throw new ImageConfigError(`[image] swift_store_container: '${s.swift_store_container}' is not a plain name`);
      return new ObjectStorageStore({
        id,
        container: s.swift_store_container,
        segmentSize: s.swift_store_large_object_chunk_size * MiB,
        largeObjectSize: s.swift_store_large_object_size * MiB,
        description: `Object Storage, container ${s.swift_store_container} of the image service's account`,
        client: new ServiceAccountStorage({
          session,
          accountUrl: s.swift_store_endpoint,
          endpoint: { type: 'object-store', interface: ENDPOINT_INTERFACE[s.swift_store_endpoint_type], region: s.swift_store_region || undefined },
        }),
      });
    }
    throw new ImageConfigError(`[image] enabled_backends: '${entry}' has an unknown store type (types: file, swift)`);
  });
  if (stores.filter((st) => st.type === 'object-store').length > 1) {
    throw new ImageConfigError('[image] enabled_backends: at most one swift store (its images share the swift_store_container)');
  }
  if (!stores.some((st) => st.id === s.default_backend)) {
    throw new ImageConfigError(`[image] default_backend: '${s.default_backend}' is not one of enabled_backends`);
  }
  return new StoreRegistry(stores, s.default_backend);
}

export function imageSettings(config: Config): ImageSettings {
  const s = config.section(imageSection);
  return {
    publicEndpoint: s.public_endpoint || undefined,
    diskFormats: s.disk_formats,
    containerFormats: s.container_formats,
    imageSizeCap: s.image_size_cap,
    quotas: { imageCount: s.image_count_total, imageSize: s.image_size_total, stageSize: s.image_stage_total, uploadingCount: s.image_count_uploading },
  };
}

export async function createImageService(opts: ImageServiceOptions): Promise<ImageService> {
  const s = opts.config.section(imageSection);
  const staging = new FileStore({ id: 'os_glance_staging_store', directory: s.staging_dir || join(opts.stateDir, 'image-staging'), description: 'Staging area for image import' });
  const policy = new Enforcer(imagePolicyDefaults, { policyFile: s.policy_file || undefined });
  const validator = serviceTokenValidator(s);
  const stores = buildStores(opts.config, opts.stateDir, validator.session);
  const { data, close } = await openImageData(imageDatabaseUrl(opts.config, opts.stateDir));
  const deps: ImageDeps = { data, stores, staging, policy, settings: imageSettings(opts.config), logger: opts.logger };
  const olderThanMs = opts.recoverOlderThanMs ?? 3600_000;
  const recovered = await recoverInterruptedTransfers(deps, { olderThanMs });
  for (const store of [...stores.all(), staging]) {
    if (store instanceof FileStore) await store.sweepTemporaryFiles(olderThanMs);
  }
  opts.logger.info({ recovered }, 'image: interrupted transfers reconciled');
  const sweep = startOrphanSweep(deps, { before: new Date(Date.now() - olderThanMs), logger: opts.logger });
  // Image data is streamed, never parsed as a body: the limit only bounds JSON documents.
  const app = createApp({ service: 'image', fault: webobFault, logger: opts.logger, bodyLimit: 1024 * 1024, ignoreTrailingSlash: false });
  registerTokenAuth(app, validator, { publicRoutes: ['GET /', 'GET /versions'] });
  registerImageApi(app, deps);
  return {
    app,
    deps,
    close: async () => {
      await app.close();
      await importsInFlight(deps); // background imports finish before the database closes
      sweep.stop();
      await close();
    },
  };
}
