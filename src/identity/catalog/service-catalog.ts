// The service catalog as tokens and /v3/auth/catalog carry it: enabled services with their
// enabled endpoints, the endpoint URLs filled in for the token they go with (url-template.ts).
// As Keystone: an endpoint whose URL cannot be filled in for that token (a project id in a
// domain-scoped token's catalog, an unknown name) is left out; its service stays, perhaps with
// no endpoint. The catalog is read again only when the identity generation moves.
import type { IdentityDb } from '../db/store.ts';
import { fromDbBool } from '../../core/db/index.ts';
import { parseUrlTemplate, renderUrl, type UrlTemplate } from './url-template.ts';

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

/** Whom a catalog is made for: the values its URLs may use. */
export interface CatalogScope {
  userId: string;
  /** set for a project-scoped token only */
  projectId?: string;
}

interface StoredEntry extends Omit<CatalogEntry, 'endpoints'> {
  endpoints: { endpoint: CatalogEndpoint; template: UrlTemplate | null }[];
}

export class ServiceCatalog {
  private cached: StoredEntry[] = [];
  private builtAt = -1;

  /** `publicEndpoint` is what $(public_endpoint)s stands for; without it such URLs are left out. */
  constructor(private readonly db: IdentityDb, private readonly publicEndpoint?: string) {}

  async get(generation: number, scope: CatalogScope): Promise<CatalogEntry[]> {
    if (generation !== this.builtAt) {
      this.cached = await this.build();
      this.builtAt = generation;
    }
    const values = {
      user_id: scope.userId,
      project_id: scope.projectId,
      tenant_id: scope.projectId,
      public_endpoint: this.publicEndpoint,
    };
    return this.cached.map((s) => ({
      ...s,
      endpoints: s.endpoints.flatMap(({ endpoint, template }) => {
        const url = renderUrl(template, values);
        return url === undefined ? [] : [{ ...endpoint, url }];
      }),
    }));
  }

  private async build(): Promise<StoredEntry[]> {
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
            .map((e) => ({
              endpoint: { id: e.id, interface: e.interface, region: e.region_id, region_id: e.region_id, url: e.url },
              template: parseUrlTemplate(e.url),
            })),
        };
      });
  }
}
