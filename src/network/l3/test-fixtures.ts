// Fixtures of the router and floating IP suites: networks through the API, subnets as rows
// (their API is another file's business), ports through createPort.
import assert from 'node:assert/strict';
import { newId, now, type NetworkDeps } from '../api/common.ts';
import { createPort } from '../ports/create-port.ts';
import type { RestClient } from '../../clients/http.ts';

/** What the fixtures need of src/testing's TestCloud and ProjectUser (which only tests may import). */
interface TestCloud {
  network: RestClient;
  networkService: { deps: NetworkDeps };
}
interface ProjectUser {
  projectId: string;
  network: RestClient;
}

export async function createNetwork(client: RestClient, body: Record<string, unknown>): Promise<string> {
  const res = await client.send('POST', '/v2.0/networks', { body: { network: body } });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return res.body.network.id as string;
}

/** An IPv4 subnet row: gateway the first host unless given (null for none), the rest a pool. */
export async function addSubnet(
  cloud: TestCloud, networkId: string, projectId: string, cidr: string, gateway: string | null | undefined = undefined,
): Promise<string> {
  const [base, len] = cidr.split('/');
  const octets = base!.split('.').map(Number);
  const start = (octets[0]! << 24 >>> 0) + (octets[1]! << 16) + (octets[2]! << 8) + octets[3]!;
  const size = 2 ** (32 - Number(len));
  const text = (n: number) => [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
  const gw = gateway === undefined ? text(start + 1) : gateway;
  const id = newId();
  const t = now();
  await cloud.networkService.deps.data.write(async (tx) => {
    await tx.insertInto('subnet').values({
      id, project_id: projectId, network_id: networkId, segment_id: null, subnetpool_id: null, name: '', description: '',
      ip_version: 4, cidr, gateway_ip: gw, enable_dhcp: 1, ipv6_ra_mode: null, ipv6_address_mode: null,
      allocation_pools: JSON.stringify([{ start: text(start + 2), end: text(start + size - 2) }]),
      dns_nameservers: '[]', host_routes: '[]', created_at: t, updated_at: t, revision_number: 0,
    }).execute();
  });
  return id;
}

/** The admin's external network with one subnet. */
export async function externalNetwork(cloud: TestCloud, cidr = '172.24.4.0/24'): Promise<{ networkId: string; subnetId: string }> {
  const networkId = await createNetwork(cloud.network, { name: 'public', 'router:external': true });
  const admin = await cloud.network.send('GET', `/v2.0/networks/${networkId}`);
  const subnetId = await addSubnet(cloud, networkId, admin.body.network.project_id, cidr);
  return { networkId, subnetId };
}

/** A project's network with one subnet. */
export async function tenantNetwork(
  cloud: TestCloud, user: ProjectUser, cidr: string, gateway: string | null | undefined = undefined,
): Promise<{ networkId: string; subnetId: string }> {
  const networkId = await createNetwork(user.network, { name: `net-${cidr}` });
  return { networkId, subnetId: await addSubnet(cloud, networkId, user.projectId, cidr, gateway) };
}

/** A plain port (an instance's, say) with one address from the network's subnet. */
export async function vmPort(cloud: TestCloud, networkId: string, projectId: string): Promise<string> {
  const deps = cloud.networkService.deps;
  return deps.data.write((tx) => createPort(tx, deps, { project_id: projectId, network_id: networkId, name: 'vm', security_groups: null }));
}

export async function portRow(cloud: TestCloud, portId: string) {
  return cloud.networkService.deps.data.db.selectFrom('port').selectAll().where('id', '=', portId).executeTakeFirst();
}

export async function addressesOf(cloud: TestCloud, portId: string) {
  return cloud.networkService.deps.data.db.selectFrom('ip_allocation').select(['subnet_id', 'ip_address']).where('port_id', '=', portId).execute();
}

export async function setQuota(cloud: TestCloud, projectId: string, resource: string, limit: number): Promise<void> {
  await cloud.networkService.deps.data.write(async (tx) => {
    await tx.deleteFrom('quota').where('project_id', '=', projectId).where('resource', '=', resource).execute();
    await tx.insertInto('quota').values({ project_id: projectId, resource, hard_limit: limit }).execute();
  });
}
