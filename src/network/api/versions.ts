// Version discovery: GET / lists v2.0; GET /v2.0 lists the collections (resources).
import type { FastifyInstance } from 'fastify';
import { baseUrl, type NetworkDeps } from './common.ts';

const COLLECTIONS = ['subnets', 'subnetpools', 'networks', 'ports', 'routers', 'floatingips', 'security-groups', 'security-group-rules', 'quotas', 'extensions', 'availability_zones', 'network-ip-availabilities'];

export function registerVersions(app: FastifyInstance, deps: NetworkDeps): void {
  app.get('/', async (req) => ({
    versions: [{ id: 'v2.0', status: 'CURRENT', links: [{ rel: 'self', href: `${baseUrl(req, deps)}/v2.0/` }] }],
  }));
  app.get('/v2.0', async (req) => ({
    resources: COLLECTIONS.map((c) => ({
      name: c.replace(/s$/, ''),
      collection: c,
      links: [{ rel: 'self', href: `${baseUrl(req, deps)}/v2.0/${c}` }],
    })),
  }));
}
