// Version discovery: GET / (300 Multiple Choices) and GET /versions (200), as Glance answers.
import type { FastifyInstance } from 'fastify';
import { baseUrl, type ImageDeps } from './common.ts';

/** Glance's v2 minor versions, newest first; 2.16 is the newest we implement. */
const MINORS = [16, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0];

export function registerVersions(app: FastifyInstance, deps: ImageDeps): void {
  const versions = (href: string) => ({
    versions: MINORS.map((minor, i) => ({
      id: `v2.${minor}`,
      status: i === 0 ? 'CURRENT' : 'SUPPORTED',
      links: [{ rel: 'self', href }],
    })),
  });
  app.get('/', async (req, reply) => {
    reply.status(300).send(versions(`${baseUrl(req, deps)}/v2/`));
  });
  app.get('/versions', async (req) => versions(`${baseUrl(req, deps)}/v2/`));
}
