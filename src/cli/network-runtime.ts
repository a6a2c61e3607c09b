// The networking service under the launcher, the noop agent of this host, and the starter
// networks of the all-in-one: an external flat network `public` with a subnet, a project
// network `private` with a subnet, and `router1` between them, all for the admin project.
import type { Logger } from 'pino';
import type { Bus, BusServer } from '../core/bus/index.ts';
import type { Config } from '../core/config/index.ts';
import type { Launcher } from '../core/service.ts';
import { RestClient } from '../clients/http.ts';
import { createNetworkService, type NetworkService } from '../network/service.ts';
import { startNoopAgent } from '../network/agent/noop-agent.ts';

export const STARTER = {
  publicNetwork: 'public',
  publicCidr: '172.24.4.0/24',
  privateNetwork: 'private',
  privateCidr: '10.0.0.0/24',
  router: 'router1',
};

export interface NetworkRuntimeOptions {
  config: Config;
  logger: Logger;
  stateDir: string;
  host: string;
  port: number;
  bus: Bus;
  /** the name this host's agent listens under (port binding:host_id) */
  agentHost: string;
}

export async function addNetwork(launcher: Launcher, opts: NetworkRuntimeOptions): Promise<NetworkService> {
  const service = await createNetworkService({ config: opts.config, logger: opts.logger, stateDir: opts.stateDir, bus: opts.bus });
  launcher.add({ name: 'network', app: service.app, port: opts.port, host: opts.host });
  const agent: BusServer = await startNoopAgent(opts.bus, opts.agentHost);
  launcher.onStop(async () => {
    await agent.stop();
    await service.close();
  });
  return service;
}

function check(res: { status: number; body: unknown }, statuses: number[], what: string) {
  if (!statuses.includes(res.status)) throw new Error(`starter networks: ${what} answered ${res.status}: ${JSON.stringify(res.body).slice(0, 500)}`);
  return res.body as Record<string, any>;
}

/** Finds a resource by name in the admin project's view, or creates it. */
async function findOrCreate(api: RestClient, plural: string, singular: string, name: string, body: Record<string, unknown>) {
  const found = check(await api.send('GET', `/v2.0/${plural}?name=${encodeURIComponent(name)}`), [200], `GET /v2.0/${plural}`)[plural] as any[];
  if (found.length) return { resource: found[0], created: false };
  const created = check(await api.send('POST', `/v2.0/${plural}`, { body: { [singular]: { name, ...body } } }), [201], `POST /v2.0/${plural}`);
  return { resource: created[singular], created: true };
}

/**
 * Makes the starter networks when the cloud has none of them yet, through the API with an
 * admin token. Idempotent: what exists is kept.
 */
export async function ensureStarterNetworks(networkUrl: string, token: () => Promise<string>, logger: Logger): Promise<{ created: boolean }> {
  const api = new RestClient(networkUrl, await token());
  const pub = await findOrCreate(api, 'networks', 'network', STARTER.publicNetwork, {
    'router:external': true, 'provider:network_type': 'flat', 'provider:physical_network': 'public', shared: false,
  });
  await findOrCreate(api, 'subnets', 'subnet', `${STARTER.publicNetwork}-subnet`, {
    network_id: pub.resource.id, ip_version: 4, cidr: STARTER.publicCidr, enable_dhcp: false,
  });
  const priv = await findOrCreate(api, 'networks', 'network', STARTER.privateNetwork, {});
  const privSubnet = await findOrCreate(api, 'subnets', 'subnet', `${STARTER.privateNetwork}-subnet`, {
    network_id: priv.resource.id, ip_version: 4, cidr: STARTER.privateCidr, dns_nameservers: [],
  });
  const router = await findOrCreate(api, 'routers', 'router', STARTER.router, {
    external_gateway_info: { network_id: pub.resource.id },
  });
  if (router.created) {
    check(await api.send('PUT', `/v2.0/routers/${router.resource.id}/add_router_interface`, { body: { subnet_id: privSubnet.resource.id } }), [200], 'add_router_interface');
    logger.info({ router: router.resource.id }, 'up: made the starter networks public, private and router1');
  }
  return { created: pub.created || priv.created || router.created };
}
