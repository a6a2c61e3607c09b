// Discovery: GET /v2/info/import (import methods), /v2/info/stores (the stores, 2.8+),
// /v2/info/stores/detail (their backends, admin only, 2.15+) and /v2/info/usage (the caller's
// project quota usage, 2.13+), in Glance's shapes. As in Glance, a store's "default" and
// "read-only" flags are the strings "true", present only when set.
import type { FastifyInstance } from 'fastify';
import { IMPORT_METHODS } from '../upload/import.ts';
import { projectUsage } from '../upload/quota.ts';
import type { ImageStore } from '../store/types.ts';
import { authorize, contextOf, type ImageDeps } from './common.ts';

function storeEntry(deps: ImageDeps, store: ImageStore): Record<string, unknown> {
  const entry: Record<string, unknown> = { id: store.id };
  if (store.description) entry.description = store.description;
  if (store.id === deps.stores.default.id) entry.default = 'true';
  return entry;
}

export function registerInfo(app: FastifyInstance, deps: ImageDeps): void {
  app.get('/v2/info/import', async (req) => {
    contextOf(req);
    return {
      'import-methods': { description: 'Import methods available.', type: 'array', value: [...IMPORT_METHODS] },
    };
  });

  app.get('/v2/info/stores', async (req) => {
    contextOf(req);
    return { stores: deps.stores.all().map((s) => storeEntry(deps, s)) };
  });

  app.get('/v2/info/stores/detail', async (req) => {
    authorize(req, deps, 'stores_info_detail');
    return {
      stores: deps.stores.all().map((s) => ({
        ...storeEntry(deps, s),
        // Glance names backends by their glance_store driver; ours speaks Swift.
        type: s.type === 'object-store' ? 'swift' : s.type,
        weight: 0,
        properties: { ...s.properties },
      })),
    };
  });

  app.get('/v2/info/usage', async (req) => {
    const ctx = contextOf(req);
    return { usage: await projectUsage(deps.data.db, deps.settings, ctx.projectId ?? '') };
  });
}
