// POST /v2/images/{id}/actions/deactivate and /reactivate (204), as Glance's domain rules:
// only an active image deactivates and only a deactivated one reactivates; asking for the
// state the image is already in is a no-op; any other status is a 403. What deactivation
// means for downloads (only admins may) is the data API's business.
import type { FastifyInstance } from 'fastify';
import { forbidden } from '../../core/http/index.ts';
import type { ImageStatus } from '../db/schema.ts';
import { moveStatus } from '../upload/status.ts';
import { contextOf, type ImageDeps } from './common.ts';
import { enforceOnImage, lockImage } from './image-rules.ts';

type ImageParams = { image_id: string };

interface Action {
  rule: 'deactivate' | 'reactivate';
  from: ImageStatus;
  to: ImageStatus;
}

const ACTIONS: Record<string, Action> = {
  deactivate: { rule: 'deactivate', from: 'active', to: 'deactivated' },
  reactivate: { rule: 'reactivate', from: 'deactivated', to: 'active' },
};

export function registerImageActions(app: FastifyInstance, deps: ImageDeps): void {
  for (const [name, action] of Object.entries(ACTIONS)) {
    app.post<{ Params: ImageParams }>(`/v2/images/:image_id/actions/${name}`, async (req, reply) => {
      const ctx = contextOf(req);
      const id = req.params.image_id;
      await deps.data.write(async (tx) => {
        const image = await lockImage(tx, ctx, deps, id, `No image found with ID ${id}`);
        enforceOnImage(ctx, deps, action.rule, image);
        const status = image.row.status;
        if (status === action.to) return;
        if (status !== action.from || !(await moveStatus(tx, image.row.id, action.from, action.to))) {
          throw forbidden(`Not allowed to ${name} image in status '${status}'`);
        }
      });
      reply.code(204).send();
    });
  }
}
