// The image service under the launcher (its API on a port, its database closed at stop), and
// the all-in-one's starter image.
//
// The starter image "tenrec-starter" is an empty 1 GiB qcow2 disk (made by makeQcow2, no QEMU
// tools needed), public, uploaded through the image API with the admin's token exactly as a
// user would, so that `openstack image list` shows something and a server can be booted on a
// fresh cloud. It is uploaded only while the cloud has no image yet: a later run, or a cloud
// whose admin deleted it and made others, is left alone. A starter left half-made by a run
// that died during the upload is deleted and made again.
import type { Config } from '../core/config/index.ts';
import type { Logger } from '../core/log/logger.ts';
import type { Launcher } from '../core/service.ts';
import { ImageClient } from '../clients/image.ts';
import { makeQcow2 } from '../image/disk/qcow2.ts';
import { createImageService, type ImageService } from '../image/service.ts';

export const STARTER_IMAGE_NAME = 'tenrec-starter';
export const STARTER_VIRTUAL_SIZE = 1024 ** 3;

export interface ImageRuntimeOptions {
  config: Config;
  logger: Logger;
  stateDir: string;
  host: string;
  port: number;
  /** see ImageServiceOptions.recoverOlderThanMs: 0 for the all-in-one, the default when split */
  recoverOlderThanMs?: number;
}

/** Builds the image service and hands it to the launcher (which starts and stops it). */
export async function addImage(launcher: Launcher, opts: ImageRuntimeOptions): Promise<ImageService> {
  const service = await createImageService({ config: opts.config, logger: opts.logger, stateDir: opts.stateDir, recoverOlderThanMs: opts.recoverOlderThanMs });
  launcher.add({ name: 'image', app: service.app, port: opts.port, host: opts.host });
  launcher.onStop(() => service.close());
  return service;
}

export interface StarterResult {
  /** the starter's id; undefined when the cloud had images and none is the starter */
  id?: string;
  uploaded: boolean;
}

/**
 * Uploads the starter image through the API at `imageUrl` with an admin's token (asked for
 * only when there is something to upload) when the image database holds no image yet; does
 * nothing otherwise.
 */
export async function ensureStarterImage(service: ImageService, imageUrl: string, token: () => Promise<string>, logger: Logger): Promise<StarterResult> {
  const rows = await service.deps.data.db.selectFrom('image').select(['id', 'name', 'status']).where('status', 'not in', ['deleted', 'killed']).execute();
  const active = rows.find((r) => r.name === STARTER_IMAGE_NAME && r.status === 'active');
  if (active) return { id: active.id, uploaded: false };
  const broken = rows.filter((r) => r.name === STARTER_IMAGE_NAME);
  if (rows.length > broken.length) return { uploaded: false }; // the cloud has images of its own

  const api = new ImageClient(imageUrl, await token());
  for (const { id } of broken) {
    logger.warn({ image: id }, 'up: removing a starter image an earlier run left unfinished');
    expect(await api.deleteImage(id), [204, 404], `DELETE /v2/images/${id}`);
  }
  const created = expect(
    await api.createImage({
      name: STARTER_IMAGE_NAME,
      visibility: 'public',
      disk_format: 'qcow2',
      container_format: 'bare',
      description: 'An empty 1 GiB qcow2 disk, uploaded by tenrec up',
    }),
    [201],
    'POST /v2/images',
  );
  const id = (created.body as { id: string }).id;
  expect(await api.upload(id, makeQcow2(STARTER_VIRTUAL_SIZE)), [204], `PUT /v2/images/${id}/file`);
  logger.info({ image: id }, `up: uploaded the starter image ${STARTER_IMAGE_NAME}`);
  return { id, uploaded: true };
}

function expect<R extends { status: number; body: unknown }>(res: R, statuses: number[], what: string): R {
  if (!statuses.includes(res.status)) {
    throw new Error(`starter image: ${what} answered ${res.status}: ${JSON.stringify(res.body).slice(0, 500)}`);
  }
  return res;
}
