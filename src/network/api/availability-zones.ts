// GET /v2.0/availability_zones: the one zone networks and routers are in (the configured
// default_availability_zone), with the usual filters and fields= (e.g. ?resource=router).
import type { FastifyInstance } from 'fastify';
import { authorize, listResponse, type NetworkDeps } from './common.ts';

export function registerAvailabilityZones(app: FastifyInstance, deps: NetworkDeps): void {
  app.get('/v2.0/availability_zones', async (req) => {
    authorize(req, deps, 'get_availability_zone');
    const zone = deps.settings.defaultAvailabilityZone;
    const views = ['network', 'router'].map((resource) => ({ name: zone, resource, state: 'available' }));
    return listResponse(req, deps, 'availability_zones', views);
  });
}
