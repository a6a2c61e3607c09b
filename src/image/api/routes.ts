// Every image API file, registered on the app.
import type { FastifyInstance } from 'fastify';
import type { ImageDeps } from './common.ts';
import { registerVersions } from './versions.ts';
import { registerMembers } from './members.ts';
import { registerImageData } from './image-data.ts';
import { registerImageImport } from './image-import.ts';
import { registerInfo } from './info.ts';
import { registerImages } from './images.ts';
import { registerTasks } from './tasks.ts';

export function registerImageApi(app: FastifyInstance, deps: ImageDeps): void {
  registerVersions(app, deps);
  registerMembers(app, deps);
  registerImageData(app, deps);
  registerImageImport(app, deps);
  registerInfo(app, deps);
  registerImages(app, deps);
  registerTasks(app, deps);
}
