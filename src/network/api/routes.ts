// Every networking API file, registered on the app.
import type { FastifyInstance } from 'fastify';
import type { NetworkDeps } from './common.ts';
import { registerVersions } from './versions.ts';

export function registerNetworkApi(app: FastifyInstance, deps: NetworkDeps): void {
  registerVersions(app, deps);
}
