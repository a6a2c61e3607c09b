// Image tags one at a time: PUT /v2/images/{id}/tags/{tag} adds (adding one the image has is
// fine) and DELETE removes (404 when the image has no such tag); both 204. As Glance: the
// tag is checked against the image schema first (at most 255 characters: a 400), changing
// tags is modify_image, and the 129th tag is a 413 (image_tag_quota).
import type { FastifyInstance } from 'fastify';
import { HttpError, notFound } from '../../core/http/index.ts';
import { contextOf, type ImageDeps } from './common.ts';
import { IMAGE_TAG_QUOTA, addTags, checkTag, enforceOnImage, lockImage, tagLimitError, touchImage } from './image-rules.ts';

type TagParams = { image_id: string; tag_value: string };

export function registerTags(app: FastifyInstance, deps: ImageDeps): void {
  app.put<{ Params: TagParams }>('/v2/images/:image_id/tags/:tag_value', async (req, reply) => {
    const ctx = contextOf(req);
    const { image_id: id, tag_value: tag } = req.params;
    checkTag(tag);
    await deps.data.write(async (tx) => {
      const image = await lockImage(tx, ctx, deps, id, `Image ${id} not found.`);
      enforceOnImage(ctx, deps, 'modify_image', image);
      const has = await tx.selectFrom('image_tag').select('value').where('image_id', '=', image.row.id).where('value', '=', tag).executeTakeFirst();
      if (!has && IMAGE_TAG_QUOTA >= 0 && image.tags.length + 1 > IMAGE_TAG_QUOTA) {
        throw new HttpError(413, `Image tag limit exceeded for image ${id}: ${tagLimitError(image.tags.length + 1).message}:`);
      }
      await addTags(tx, image.row.id, [tag]);
      await touchImage(tx, image.row.id);
    });
    reply.code(204).send();
  });

  app.delete<{ Params: TagParams }>('/v2/images/:image_id/tags/:tag_value', async (req, reply) => {
    const ctx = contextOf(req);
    const { image_id: id, tag_value: tag } = req.params;
    await deps.data.write(async (tx) => {
      const image = await lockImage(tx, ctx, deps, id, `Image ${id} not found.`);
      enforceOnImage(ctx, deps, 'modify_image', image);
      if (!image.tags.includes(tag)) throw notFound('The resource could not be found.');
      await tx.deleteFrom('image_tag').where('image_id', '=', image.row.id).where('value', '=', tag).execute();
      await touchImage(tx, image.row.id);
    });
    reply.code(204).send();
  });
}
