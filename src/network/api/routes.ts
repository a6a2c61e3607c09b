// Every networking API file, registered on the app.
import type { FastifyInstance } from 'fastify';
import type { NetworkDeps } from './common.ts';
import { registerVersions } from './versions.ts';
import { registerSecurityGroups } from './security-groups.ts';
import { registerSecurityGroupRules } from './security-group-rules.ts';
import { registerQuotas } from './quotas.ts';
import { registerNetworks } from './networks.ts';
import { registerPorts } from './ports.ts';
import { registerTags } from './tags.ts';
import { registerExtensions } from './extensions.ts';
import { registerAvailabilityZones } from './availability-zones.ts';
import { registerRouters } from './routers.ts';
import { registerFloatingIps } from './floatingips.ts';
import { registerSubnets } from './subnets.ts';
import { registerSubnetPools } from './subnetpools.ts';
import { registerIpAvailability } from './ip-availability.ts';

export function registerNetworkApi(app: FastifyInstance, deps: NetworkDeps): void {
  registerVersions(app, deps);
  registerSecurityGroups(app, deps);
  registerSecurityGroupRules(app, deps);
  registerQuotas(app, deps);
  registerNetworks(app, deps);
  registerPorts(app, deps);
  registerTags(app, deps);
  registerExtensions(app, deps);
  registerAvailabilityZones(app, deps);
  registerRouters(app, deps);
  registerFloatingIps(app, deps);
  registerSubnets(app, deps);
  registerSubnetPools(app, deps);
  registerIpAvailability(app, deps);
}
