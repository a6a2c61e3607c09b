import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { describeNetworkApi } from '../../testing/network-suite.ts';
import type { BusServer } from '../../core/bus/index.ts';
import type { RestClient } from '../../clients/http.ts';
import { newId } from './common.ts';
import { startNoopAgent } from '../agent/noop-agent.ts';
import { AGENT_TOPIC } from '../agent/events.ts';

const BASE_MAC = 'fa:16:3e:4f:00:00';

async function makeNetwork(client: RestClient, body: Record<string, unknown> = {}): Promise<string> {
  const res = await client.send('POST', '/v2.0/networks', { body: { network: { name: 'n', ...body } } });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return res.body.network.id;
}

/** A /24 subnet: the gateway at .1, the pool .2-.254. */
async function makeSubnet(client: RestClient, networkId: string, prefix: string): Promise<string> {
  const res = await client.send('POST', '/v2.0/subnets', { body: { subnet: { network_id: networkId, ip_version: 4, cidr: `${prefix}.0/24` } } });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return res.body.subnet.id;
}

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>): Promise<T> {
  for (let i = 0; i < 400; i++) {
    const value = await probe();
    if (value !== undefined) return value;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`gave up waiting for ${what}`);
}

await describeNetworkApi('ports', { network: { base_mac: BASE_MAC } }, (suite) => {
  let agent: BusServer;
  let net: string;
  let subnet: string;
  before(async () => {
    agent = await startNoopAgent(suite.cloud.bus, 'host1');
    net = await makeNetwork(suite.alice.network);
    subnet = await makeSubnet(suite.alice.network, net, '10.1.0');
  });
  after(async () => { await agent?.stop(); });

  test('create with an automatic address, Neutron defaults and a generated MAC', async () => {
    const res = await suite.alice.network.send('POST', '/v2.0/ports', { body: { port: { network_id: net, name: 'p1' } } });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    const port = res.body.port;
    assert.equal(port.name, 'p1');
    assert.equal(port.network_id, net);
    assert.equal(port.project_id, suite.alice.projectId);
    assert.equal(port.tenant_id, suite.alice.projectId);
    assert.equal(port.status, 'DOWN');
    assert.equal(port.admin_state_up, true);
    assert.equal(port.fixed_ips.length, 1);
    assert.equal(port.fixed_ips[0].subnet_id, subnet);
    assert.match(port.fixed_ips[0].ip_address, /^10\.1\.0\.\d+$/);
    assert.match(port.mac_address, /^fa:16:3e:4f:[0-9a-f]{2}:[0-9a-f]{2}$/, 'the base MAC keeps its non-zero prefix');
    assert.equal(port.port_security_enabled, true);
    assert.equal(port.security_groups.length, 1, 'the project default group');
    assert.deepEqual(port.allowed_address_pairs, []);
    assert.deepEqual(port.extra_dhcp_opts, []);
    assert.equal(port['binding:vnic_type'], 'normal');
    for (const key of ['binding:host_id', 'binding:vif_type', 'binding:vif_details', 'binding:profile']) {
      assert.ok(!(key in port), `${key} is admin-only`);
    }
    assert.equal(port.revision_number, 1);
    assert.deepEqual(port.tags, []);

    const asAdmin = await suite.cloud.network.send('GET', `/v2.0/ports/${port.id}`);
    assert.equal(asAdmin.body.port['binding:vif_type'], 'unbound');
    assert.deepEqual(asAdmin.body.port['binding:vif_details'], {});
    assert.equal(asAdmin.body.port['binding:host_id'], '');

    const listed = await suite.alice.network.send('GET', `/v2.0/ports?network_id=${net}&fields=id&fields=mac_address`);
    assert.equal(listed.status, 200);
    assert.ok(listed.body.ports.some((p: any) => p.id === port.id && p.mac_address === port.mac_address && Object.keys(p).length === 2));
    const byIp = await suite.alice.network.send('GET', `/v2.0/ports?fixed_ips=ip_address%3D${port.fixed_ips[0].ip_address}`);
    assert.deepEqual(byIp.body.ports.map((p: any) => p.id), [port.id]);
    const bobs = await suite.bob.network.send('GET', '/v2.0/ports');
    assert.ok(!bobs.body.ports.some((p: any) => p.id === port.id));
    assert.equal((await suite.bob.network.send('GET', `/v2.0/ports/${port.id}`)).status, 404);
  });

  test('requested subnet and address; a taken address is a 409', async () => {
    const bySubnet = await suite.alice.network.send('POST', '/v2.0/ports', { body: { port: { network_id: net, fixed_ips: [{ subnet_id: subnet }] } } });
    assert.equal(bySubnet.status, 201, JSON.stringify(bySubnet.body));
    assert.equal(bySubnet.body.port.fixed_ips[0].subnet_id, subnet);
    const byAddress = await suite.alice.network.send('POST', '/v2.0/ports', {
      body: { port: { network_id: net, fixed_ips: [{ subnet_id: subnet, ip_address: '10.1.0.50' }] } },
    });
    assert.equal(byAddress.status, 201, JSON.stringify(byAddress.body));
    assert.deepEqual(byAddress.body.port.fixed_ips, [{ subnet_id: subnet, ip_address: '10.1.0.50' }]);
    const onlyAddress = await suite.alice.network.send('POST', '/v2.0/ports', { body: { port: { network_id: net, fixed_ips: [{ ip_address: '10.1.0.51' }] } } });
    assert.equal(onlyAddress.status, 201, JSON.stringify(onlyAddress.body));
    assert.deepEqual(onlyAddress.body.port.fixed_ips, [{ subnet_id: subnet, ip_address: '10.1.0.51' }]);
    const taken = await suite.alice.network.send('POST', '/v2.0/ports', { body: { port: { network_id: net, fixed_ips: [{ ip_address: '10.1.0.50' }] } } });
    assert.equal(taken.status, 409, JSON.stringify(taken.body));
    assert.match(taken.body.NeutronError.type, /^IpAddress(InUse|AlreadyAllocated)$/);
    const bad = await suite.alice.network.send('POST', '/v2.0/ports', { body: { port: { network_id: net, fixed_ips: [{ ip_address: '10.1.0.300' }] } } });
    assert.equal(bad.status, 400);
    const none = await suite.alice.network.send('POST', '/v2.0/ports', { body: { port: { network_id: net, fixed_ips: [] } } });
    assert.equal(none.status, 201);
    assert.deepEqual(none.body.port.fixed_ips, []);
  });

  test("another project's private network is a 404; unknown attributes a 400", async () => {
    const res = await suite.bob.network.send('POST', '/v2.0/ports', { body: { port: { network_id: net } } });
    assert.equal(res.status, 404);
    assert.equal(res.body.NeutronError.type, 'NetworkNotFound');
    const missing = await suite.alice.network.send('POST', '/v2.0/ports', { body: { port: { network_id: newId() } } });
    assert.equal(missing.status, 404);
    assert.equal(missing.body.NeutronError.type, 'NetworkNotFound');
    const noNet = await suite.alice.network.send('POST', '/v2.0/ports', { body: { port: { name: 'x' } } });
    assert.equal(noNet.status, 400);
    const unknown = await suite.alice.network.send('POST', '/v2.0/ports', { body: { port: { network_id: net, bogus: 1 } } });
    assert.equal(unknown.status, 400);
    const foreign = await suite.alice.network.send('POST', '/v2.0/ports', { body: { port: { network_id: net, project_id: suite.bob.projectId } } });
    assert.equal(foreign.status, 400);
  });

  test('a given MAC; the same MAC twice on a network is a 409 MacAddressInUse', async () => {
    const mac = 'fa:16:3e:aa:bb:01';
    const first = await suite.alice.network.send('POST', '/v2.0/ports', { body: { port: { network_id: net, mac_address: mac.toUpperCase() } } });
    assert.equal(first.status, 201, JSON.stringify(first.body));
    assert.equal(first.body.port.mac_address, mac);
    const again = await suite.alice.network.send('POST', '/v2.0/ports', { body: { port: { network_id: net, mac_address: mac } } });
    assert.equal(again.status, 409);
    assert.equal(again.body.NeutronError.type, 'MacAddressInUse');
    const otherNet = await makeNetwork(suite.alice.network);
    const elsewhere = await suite.alice.network.send('POST', '/v2.0/ports', { body: { port: { network_id: otherNet, mac_address: mac } } });
    assert.equal(elsewhere.status, 201, 'MACs are unique per network only');
    const invalid = await suite.alice.network.send('POST', '/v2.0/ports', { body: { port: { network_id: net, mac_address: 'nope' } } });
    assert.equal(invalid.status, 400);
    // MAC updates: admin only, and a duplicate is a 409
    const denied = await suite.alice.network.send('PUT', `/v2.0/ports/${elsewhere.body.port.id}`, { body: { port: { mac_address: 'fa:16:3e:aa:bb:02' } } });
    assert.equal(denied.status, 403);
    const second = await suite.alice.network.send('POST', '/v2.0/ports', { body: { port: { network_id: net } } });
    const dup = await suite.cloud.network.send('PUT', `/v2.0/ports/${second.body.port.id}`, { body: { port: { mac_address: mac } } });
    assert.equal(dup.status, 409);
    assert.equal(dup.body.NeutronError.type, 'MacAddressInUse');
    const changed = await suite.cloud.network.send('PUT', `/v2.0/ports/${second.body.port.id}`, { body: { port: { mac_address: 'fa:16:3e:aa:bb:03' } } });
    assert.equal(changed.status, 200, JSON.stringify(changed.body));
    assert.equal(changed.body.port.mac_address, 'fa:16:3e:aa:bb:03');
  });

  test('update fixed_ips, name and revision; delete frees the address', async () => {
    const created = await suite.alice.network.send('POST', '/v2.0/ports', { body: { port: { network_id: net, fixed_ips: [{ ip_address: '10.1.0.70' }] } } });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const id = created.body.port.id;
    const updated = await suite.alice.network.send('PUT', `/v2.0/ports/${id}`, {
      body: { port: { name: 'renamed', fixed_ips: [{ subnet_id: subnet, ip_address: '10.1.0.71' }] } },
    });
    assert.equal(updated.status, 200, JSON.stringify(updated.body));
    assert.equal(updated.body.port.name, 'renamed');
    assert.deepEqual(updated.body.port.fixed_ips, [{ subnet_id: subnet, ip_address: '10.1.0.71' }]);
    assert.equal(updated.body.port.revision_number, 2);
    // .70 was released by the update
    const reuse = await suite.alice.network.send('POST', '/v2.0/ports', { body: { port: { network_id: net, fixed_ips: [{ ip_address: '10.1.0.70' }] } } });
    assert.equal(reuse.status, 201, JSON.stringify(reuse.body));
    // adding a second address keeps the first
    const two = await suite.alice.network.send('PUT', `/v2.0/ports/${id}`, { body: { port: { fixed_ips: [{ ip_address: '10.1.0.71' }, { subnet_id: subnet }] } } });
    assert.equal(two.status, 200, JSON.stringify(two.body));
    assert.equal(two.body.port.fixed_ips.length, 2);
    assert.ok(two.body.port.fixed_ips.some((ip: any) => ip.ip_address === '10.1.0.71'));

    assert.equal((await suite.alice.network.send('DELETE', `/v2.0/ports/${id}`)).status, 204);
    assert.equal((await suite.alice.network.send('GET', `/v2.0/ports/${id}`)).status, 404);
    assert.equal((await suite.alice.network.send('DELETE', `/v2.0/ports/${id}`)).status, 404);
    const again = await suite.alice.network.send('POST', '/v2.0/ports', { body: { port: { network_id: net, fixed_ips: [{ ip_address: '10.1.0.71' }] } } });
    assert.equal(again.status, 201, 'a deleted port frees its addresses');
  });

  test('port security, security groups and allowed address pairs', async () => {
    const open = await suite.alice.network.send('POST', '/v2.0/ports', { body: { port: { network_id: net, port_security_enabled: false } } });
    assert.equal(open.status, 201, JSON.stringify(open.body));
    assert.deepEqual(open.body.port.security_groups, []);
    assert.equal(open.body.port.port_security_enabled, false);
    const guarded = await suite.alice.network.send('POST', '/v2.0/ports', {
      body: { port: { network_id: net, allowed_address_pairs: [{ ip_address: '10.1.0.0/28' }, { ip_address: '10.9.9.9', mac_address: 'fa:16:3e:00:00:09' }] } },
    });
    assert.equal(guarded.status, 201, JSON.stringify(guarded.body));
    assert.deepEqual(guarded.body.port.allowed_address_pairs, [
      { ip_address: '10.1.0.0/28', mac_address: guarded.body.port.mac_address },
      { ip_address: '10.9.9.9', mac_address: 'fa:16:3e:00:00:09' },
    ]);
    const disable = await suite.alice.network.send('PUT', `/v2.0/ports/${guarded.body.port.id}`, { body: { port: { port_security_enabled: false } } });
    assert.equal(disable.status, 409);
    assert.equal(disable.body.NeutronError.type, 'PortSecurityPortHasSecurityGroup');
    const clear = await suite.alice.network.send('PUT', `/v2.0/ports/${guarded.body.port.id}`, {
      body: { port: { port_security_enabled: false, security_groups: [], allowed_address_pairs: [] } },
    });
    assert.equal(clear.status, 200, JSON.stringify(clear.body));
    assert.deepEqual(clear.body.port.security_groups, []);
    const missingGroup = await suite.alice.network.send('POST', '/v2.0/ports', { body: { port: { network_id: net, security_groups: [newId()] } } });
    assert.equal(missingGroup.status, 404);
    assert.equal(missingGroup.body.NeutronError.type, 'SecurityGroupNotFound');
    const badPair = await suite.alice.network.send('POST', '/v2.0/ports', { body: { port: { network_id: net, allowed_address_pairs: [{ ip_address: 'x' }] } } });
    assert.equal(badPair.status, 400);
  });

  test('binding: admin binds to a host, the noop agent makes the port ACTIVE; members cannot bind', async () => {
    const created = await suite.alice.network.send('POST', '/v2.0/ports', { body: { port: { network_id: net, device_id: 'vm1', device_owner: 'compute:nova' } } });
    assert.equal(created.status, 201);
    const id = created.body.port.id;
    const denied = await suite.alice.network.send('PUT', `/v2.0/ports/${id}`, { body: { port: { 'binding:host_id': 'host1' } } });
    assert.equal(denied.status, 403);
    assert.equal(denied.body.NeutronError.type, 'PolicyNotAuthorized');
    const deniedCreate = await suite.alice.network.send('POST', '/v2.0/ports', { body: { port: { network_id: net, 'binding:host_id': 'host1' } } });
    assert.equal(deniedCreate.status, 403);

    const bound = await suite.cloud.network.send('PUT', `/v2.0/ports/${id}`, { body: { port: { 'binding:host_id': 'host1' } } });
    assert.equal(bound.status, 200, JSON.stringify(bound.body));
    assert.equal(bound.body.port['binding:host_id'], 'host1');
    assert.equal(bound.body.port['binding:vif_type'], 'bridge');
    assert.equal(bound.body.port['binding:vif_details'].port_filter, true);
    const active = await waitFor('ACTIVE', async () => {
      const res = await suite.alice.network.send('GET', `/v2.0/ports/${id}`);
      return res.body.port.status === 'ACTIVE' ? res.body.port : undefined;
    });
    assert.ok(!('binding:host_id' in active), 'members do not see the binding');
    assert.equal(active['binding:vnic_type'], 'normal');

    // bound at creation, too
    const atCreate = await suite.cloud.network.send('POST', '/v2.0/ports', { body: { port: { network_id: net, 'binding:host_id': 'host1' } } });
    assert.equal(atCreate.status, 201, JSON.stringify(atCreate.body));
    await waitFor('ACTIVE at create', async () => {
      const res = await suite.cloud.network.send('GET', `/v2.0/ports/${atCreate.body.port.id}`);
      return res.body.port.status === 'ACTIVE' ? true : undefined;
    });

    // unbinding: DOWN and unbound again; a bound port's MAC cannot change
    const macChange = await suite.cloud.network.send('PUT', `/v2.0/ports/${id}`, { body: { port: { mac_address: 'fa:16:3e:aa:bb:cc' } } });
    assert.equal(macChange.status, 409);
    assert.equal(macChange.body.NeutronError.type, 'PortBound');
    const unbound = await suite.cloud.network.send('PUT', `/v2.0/ports/${id}`, { body: { port: { 'binding:host_id': '' } } });
    assert.equal(unbound.status, 200);
    assert.equal(unbound.body.port.status, 'DOWN');
    assert.equal(unbound.body.port['binding:vif_type'], 'unbound');
  });

  test('agent events: port_bound and port_unbound carry the port, its network and segments', async () => {
    const events: { method: string; args: any }[] = [];
    const recorder = await suite.cloud.bus.serve(AGENT_TOPIC, 'host2', {
      port_bound: (args) => { events.push({ method: 'port_bound', args }); },
      port_updated: (args) => { events.push({ method: 'port_updated', args }); },
      port_unbound: (args) => { events.push({ method: 'port_unbound', args }); },
      network_updated: () => undefined,
      network_deleted: () => undefined,
      router_updated: () => undefined,
      router_deleted: () => undefined,
      security_group_updated: () => undefined,
    });
    try {
      const created = await suite.cloud.network.send('POST', '/v2.0/ports', { body: { port: { network_id: net, 'binding:host_id': 'host2' } } });
      assert.equal(created.status, 201);
      const id = created.body.port.id;
      const bound = await waitFor('port_bound', async () => events.find((e) => e.method === 'port_bound' && e.args.port.id === id));
      assert.equal(bound.args.port.mac_address, created.body.port.mac_address);
      assert.deepEqual(bound.args.port.fixed_ips, created.body.port.fixed_ips);
      assert.deepEqual(bound.args.port.security_groups, created.body.port.security_groups);
      assert.equal(bound.args.port.network.id, net);
      assert.equal(bound.args.port.network.segments[0].network_type, 'vxlan');
      assert.ok(Number.isInteger(bound.args.port.network.segments[0].segmentation_id));
      assert.equal(bound.args.port.network.subnets[0].id, subnet);
      // the status callback, as an agent calls it
      const status = await suite.cloud.bus.call<any>('network', 'update_port_status', { port_id: id, status: 'ACTIVE', host: 'host2' });
      assert.equal(status.changed, true);
      const stale = await suite.cloud.bus.call<any>('network', 'update_port_status', { port_id: id, status: 'DOWN', host: 'elsewhere' });
      assert.equal(stale.changed, false, 'a host the port is not bound to cannot change its status');
      const mine = await suite.cloud.bus.call<any[]>('network', 'get_ports_for_host', { host: 'host2' });
      assert.ok(mine.some((p) => p.id === id));

      assert.equal((await suite.cloud.network.send('DELETE', `/v2.0/ports/${id}`)).status, 204);
      const gone = await waitFor('port_unbound', async () => events.find((e) => e.method === 'port_unbound' && e.args.port.id === id));
      assert.equal(gone.args.deleted, true);
    } finally {
      await recorder.stop();
    }
  });

  test('200 ports in parallel on a /24 get 200 distinct addresses; a full subnet is a 409 IpAddressGenerationFailure', async () => {
    const project = await suite.cloud.projectUser('member');
    const big = await makeNetwork(project.network);
    const bigSubnet = await makeSubnet(project.network, big, '10.200.0');
    const create = () => project.network.send('POST', '/v2.0/ports', { body: { port: { network_id: big } } });
    const results = await Promise.all(Array.from({ length: 200 }, create));
    for (const r of results) assert.equal(r.status, 201, JSON.stringify(r.body));
    const addresses = results.map((r) => r.body.port.fixed_ips[0].ip_address);
    assert.equal(new Set(addresses).size, 200);
    assert.ok(results.every((r) => r.body.port.fixed_ips[0].subnet_id === bigSubnet));
    assert.equal(new Set(results.map((r) => r.body.port.mac_address)).size, 200);
    // the pool holds 253 (.2-.254): 53 more fill it, racing as well
    const rest = await Promise.all(Array.from({ length: 53 }, create));
    for (const r of rest) assert.equal(r.status, 201, JSON.stringify(r.body));
    const all = new Set([...addresses, ...rest.map((r) => r.body.port.fixed_ips[0].ip_address)]);
    assert.equal(all.size, 253);
    const full = await create();
    assert.equal(full.status, 409, JSON.stringify(full.body));
    assert.equal(full.body.NeutronError.type, 'IpAddressGenerationFailure');
    // deleting one frees exactly that address for the next port
    const freed = results[0]!.body.port;
    assert.equal((await project.network.send('DELETE', `/v2.0/ports/${freed.id}`)).status, 204);
    const next = await create();
    assert.equal(next.status, 201, JSON.stringify(next.body));
    assert.equal(next.body.port.fixed_ips[0].ip_address, freed.fixed_ips[0].ip_address);
  });

  test('bulk create is all or nothing', async () => {
    const ok = await suite.alice.network.send('POST', '/v2.0/ports', { body: { ports: [{ network_id: net, name: 'b1' }, { network_id: net, name: 'b2' }] } });
    assert.equal(ok.status, 201, JSON.stringify(ok.body));
    assert.deepEqual(ok.body.ports.map((p: any) => p.name), ['b1', 'b2']);
    const before = (await suite.alice.network.send('GET', `/v2.0/ports?network_id=${net}`)).body.ports.length;
    const bad = await suite.alice.network.send('POST', '/v2.0/ports', {
      body: { ports: [{ network_id: net, name: 'b3' }, { network_id: net, fixed_ips: [{ ip_address: '10.1.0.50' }] }] },
    });
    assert.equal(bad.status, 409);
    const after = (await suite.alice.network.send('GET', `/v2.0/ports?network_id=${net}`)).body.ports.length;
    assert.equal(after, before);
  });

  test("a router's interface port cannot be deleted through the ports API", async () => {
    const ownNet = await makeNetwork(suite.alice.network);
    const ownSubnet = await makeSubnet(suite.alice.network, ownNet, '10.3.0');
    const router = await suite.alice.network.send('POST', '/v2.0/routers', { body: { router: { name: 'r' } } });
    assert.equal(router.status, 201, JSON.stringify(router.body));
    const added = await suite.alice.network.send('PUT', `/v2.0/routers/${router.body.router.id}/add_router_interface`, { body: { subnet_id: ownSubnet } });
    assert.equal(added.status, 200, JSON.stringify(added.body));
    const port = await suite.alice.network.send('GET', `/v2.0/ports/${added.body.port_id}`);
    assert.equal(port.body.port.device_owner, 'network:router_interface');
    assert.deepEqual(port.body.port.security_groups, [], 'network:* ports get no default group');
    const refused = await suite.alice.network.send('DELETE', `/v2.0/ports/${added.body.port_id}`);
    assert.equal(refused.status, 409);
    assert.equal(refused.body.NeutronError.type, 'ServicePortInUse');
    assert.match(refused.body.NeutronError.message, /cannot be deleted directly via the port API: has device owner network:router_interface/);
  });

  test('port quota: 409 OverQuota', async () => {
    const project = await suite.cloud.projectUser('member');
    const own = await makeNetwork(project.network);
    await suite.cloud.networkService.deps.data.write((tx) =>
      tx.insertInto('quota').values({ project_id: project.projectId, resource: 'port', hard_limit: 1 }).execute());
    assert.equal((await project.network.send('POST', '/v2.0/ports', { body: { port: { network_id: own } } })).status, 201);
    const over = await project.network.send('POST', '/v2.0/ports', { body: { port: { network_id: own } } });
    assert.equal(over.status, 409);
    assert.equal(over.body.NeutronError.type, 'OverQuota');
  });
});
