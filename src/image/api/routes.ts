// Every image API file, registered on the app.
import type { FastifyInstance } from 'fastify';
import type { ImageDeps } from './common.ts';
import { registerVersions } from './versions.ts';

export function registerImageApi(app: FastifyInstance, deps: ImageDeps): void {
  registerVersions(app, deps);
}
