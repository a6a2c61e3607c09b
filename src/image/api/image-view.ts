// The image document as Glance v2 shows it: core attributes, then custom properties as
// top-level keys, plus self/file/schema links.
import type { FullImage } from '../db/images.ts';
import { fromDbBool } from '../../core/db/index.ts';

/** Glance's timestamps: ISO 8601 UTC to the second, e.g. 2024-01-02T03:04:05Z. */
export const glanceTime = (iso: string) => iso.replace(/\.\d+Z$/, 'Z');

export function imageView(image: FullImage, opts: { showLocations?: boolean } = {}): Record<string, unknown> {
  const r = image.row;
  const view: Record<string, unknown> = {
    ...image.properties,
    id: r.id,
    name: r.name,
    status: r.status,
    visibility: r.visibility,
    protected: fromDbBool(r.protected),
    os_hidden: fromDbBool(r.os_hidden),
    owner: r.owner,
    checksum: r.checksum,
    os_hash_algo: r.os_hash_algo,
    os_hash_value: r.os_hash_value,
    size: r.size === null ? null : Number(r.size),
    virtual_size: r.virtual_size === null ? null : Number(r.virtual_size),
    min_disk: r.min_disk,
    min_ram: r.min_ram,
    disk_format: r.disk_format,
    container_format: r.container_format,
    tags: image.tags,
    created_at: glanceTime(r.created_at),
    updated_at: glanceTime(r.updated_at),
    self: `/v2/images/${r.id}`,
    file: `/v2/images/${r.id}/file`,
    schema: '/v2/schemas/image',
  };
  const active = image.locations.filter((l) => l.status === 'active');
  if (active.length) view.stores = active.map((l) => l.store_id).join(',');
  if (opts.showLocations) {
    view.locations = active.map((l) => ({ url: l.url, metadata: { store: l.store_id } }));
    if (active[0]) view.direct_url = active[0].url;
  }
  return view;
}
