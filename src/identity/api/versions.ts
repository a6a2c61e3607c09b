// Version discovery: GET / (300 Multiple Choices, as Keystone) and GET /v3.
import type { FastifyInstance } from 'fastify';
import { versionEntry } from '../../core/http/index.ts';
import { baseUrl, type IdentityDeps } from './common.ts';

const UPDATED = '2024-04-01T00:00:00Z';

export function registerVersions(app: FastifyInstance, deps: IdentityDeps): void {
  const v3 = (href: string) => versionEntry({
    id: 'v3.14', status: 'stable', updated: UPDATED, href, mediaType: 'application/vnd.openstack.identity-v3+json',
  });
  app.get('/', async (req, reply) => {
    reply.status(300).send({ versions: { values: [v3(`${baseUrl(req, deps)}/v3/`)] } });
  });
  app.get('/v3', async (req) => ({ version: v3(`${baseUrl(req, deps)}/v3/`) }));
}
