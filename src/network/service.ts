// What the launcher starts for networking: its database (migrated), the API behind token
// validation against Identity, and its bus connection to the per-host agents.
import { join } from 'node:path';
import { hostname } from 'node:os';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { createApp, neutronFault } from '../core/http/index.ts';
import { Enforcer } from '../core/policy/index.ts';
import { serviceTokenValidator, registerTokenAuth } from '../core/auth/index.ts';
import type { Bus } from '../core/bus/index.ts';
import type { Config } from '../core/config/index.ts';
import { openNetworkData } from './db/database.ts';
import { networkSection } from './settings.ts';
import type { NetworkSettings } from './network-settings.ts';
import { networkPolicyDefaults } from './policy.ts';
import type { NetworkDeps } from './api/common.ts';
import { registerNetworkApi } from './api/routes.ts';
import { serveNetworkRpc } from './agent/events.ts';

export interface NetworkServiceOptions {
  config: Config;
  logger: Logger;
  stateDir: string;
  /** the bus the agents listen on (memory:// in the all-in-one) */
  bus: Bus;
}

export interface NetworkService {
  app: FastifyInstance;
  deps: NetworkDeps;
  close(): Promise<void>;
}

export class NetworkConfigError extends Error {}

export function networkDatabaseUrl(config: Config, stateDir: string): string {
  return config.section(networkSection).connection || `sqlite:///${join(stateDir, 'network.db')}`;
}

function range(entry: string, option: string): { min: number; max: number } {
  const [min, max] = entry.split(':').map(Number);
  if (!Number.isInteger(min) || !Number.isInteger(max) || min! > max!) throw new NetworkConfigError(`[network] ${option}: '${entry}' is not min:max`);
  return { min: min!, max: max! };
}

export function networkSettings(config: Config): NetworkSettings {
  const s = config.section(networkSection);
  return {
    publicEndpoint: s.public_endpoint || undefined,
    baseMac: s.base_mac,
    globalPhysnetMtu: s.global_physnet_mtu,
    tenantNetworkTypes: s.tenant_network_types,
    flatNetworks: s.flat_networks,
    vlanRanges: s.network_vlan_ranges.map((e) => {
      const [physnet, ...rest] = e.split(':');
      return { physnet: physnet!, ...range(rest.join(':'), 'network_vlan_ranges') };
    }),
    vniRanges: s.vni_ranges.map((e) => range(e, 'vni_ranges')),
    defaultAvailabilityZone: s.default_availability_zone,
    quotaDefaults: {
      network: s.quota_network,
      subnet: s.quota_subnet,
      port: s.quota_port,
      router: s.quota_router,
      floatingip: s.quota_floatingip,
      security_group: s.quota_security_group,
      security_group_rule: s.quota_security_group_rule,
      subnetpool: s.quota_subnetpool,
    },
  };
}

export async function createNetworkService(opts: NetworkServiceOptions): Promise<NetworkService> {
  const s = opts.config.section(networkSection);
  const settings = networkSettings(opts.config);
  const policy = new Enforcer(networkPolicyDefaults, { policyFile: s.policy_file || undefined });
  const validator = serviceTokenValidator(s);
  const { data, close } = await openNetworkData(networkDatabaseUrl(opts.config, opts.stateDir));
  const deps: NetworkDeps = { data, policy, settings, bus: opts.bus, logger: opts.logger };
  const app = createApp({ service: 'network', fault: neutronFault, logger: opts.logger });
  registerTokenAuth(app, validator, { publicRoutes: ['GET /', 'GET /v2.0'] });
  registerNetworkApi(app, deps);
  // the agents' side of the interface: port status reports and state requests (agent/README.md)
  const rpc = await serveNetworkRpc(deps, opts.bus, hostname().replace(/[^A-Za-z0-9_.:-]/g, '-').slice(0, 100) || 'localhost');
  return {
    app,
    deps,
    close: async () => {
      await rpc.stop();
      await app.close();
      await close();
    },
  };
}
