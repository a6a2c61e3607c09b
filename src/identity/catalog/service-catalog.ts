// The service catalog as tokens and /v3/auth/catalog carry it: enabled services with their
// enabled endpoints. Rebuilt only when the identity generation moves.
import type { IdentityDb } from '../db/store.ts';
import { fromDbBool } from '../../core/db/index.ts';

export interface CatalogEndpoint {
  id: string;
  interface: string;
  region: string | null;
  region_id: string | null;
  url: string;
}

export interface CatalogEntry {
  id: string;
  type: string;
  name: string;
  endpoints: CatalogEndpoint[];
}

export class ServiceCatalog {
  private cached: CatalogEntry[] = [];
  private builtAt = -1;

  constructor(private readonly db: IdentityDb) {}

  async get(generation: number): Promise<CatalogEntry[]> {
    if (generation !== this.builtAt) {
      this.cached = await this.build();
      this.builtAt = generation;
    }
    return this.cached;
  }

  private async build(): Promise<CatalogEntry[]> {
    const services = await this.db.selectFrom('service').selectAll().orderBy('type').execute();
    const endpoints = await this.db.selectFrom('endpoint').selectAll().orderBy('interface').execute();
    return services
      .filter((s) => fromDbBool(s.enabled))
      .map((s) => {
        const extra = JSON.parse(s.extra) as { name?: string };
        return {
          id: s.id,
          type: s.type,
          name: extra.name ?? '',
          endpoints: endpoints
            .filter((e) => e.service_id === s.id && fromDbBool(e.enabled))
            .map((e) => ({ id: e.id, interface: e.interface, region: e.region_id, region_id: e.region_id, url: e.url })),
        };
      });
  }
}
