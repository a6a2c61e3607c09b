import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { describeNetworkApi } from '../../testing/network-suite.ts';
import {
  addSubnet, addressesOf, createNetwork, externalNetwork, portRow, setQuota, tenantNetwork, vmPort,
} from '../l3/test-fixtures.ts';


await describeNetworkApi('routers', (suite) => {
  let publicNet: { networkId: string; subnetId: string };
  before(async () => {
    publicNet = await externalNetwork(suite.cloud);
  });

  test('create, show, list, update, delete with Neutron defaults', async () => {
    const created = await suite.alice.network.send('POST', '/v2.0/routers', { body: { router: { name: 'r1', description: 'd' } } });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const r = created.body.router;
    assert.equal(r.name, 'r1');
    assert.equal(r.description, 'd');
    assert.equal(r.status, 'ACTIVE');
    assert.equal(r.admin_state_up, true);
    assert.equal(r.external_gateway_info, null);
    assert.deepEqual(r.routes, []);
    assert.deepEqual(r.availability_zone_hints, []);
    assert.deepEqual(r.availability_zones, ['nova']);
    assert.equal(r.flavor_id, null);
    assert.equal(r.project_id, suite.alice.projectId);
    assert.equal(r.tenant_id, suite.alice.projectId);
    assert.equal(r.revision_number, 0);
    assert.deepEqual(r.tags, []);
    assert.ok(!('distributed' in r) && !('ha' in r), 'distributed and ha are admin-only attributes');

    const asAdmin = await suite.cloud.network.send('GET', `/v2.0/routers/${r.id}`);
    assert.equal(asAdmin.body.router.distributed, false);
    assert.equal(asAdmin.body.router.ha, false);

    const shown = await suite.alice.network.send('GET', `/v2.0/routers/${r.id}`);
    assert.deepEqual(shown.body.router, r);
    const hidden = await suite.bob.network.send('GET', `/v2.0/routers/${r.id}`);
    assert.equal(hidden.status, 404);
    assert.equal(hidden.body.NeutronError.type, 'RouterNotFound');
    assert.equal((await suite.bob.network.send('PUT', `/v2.0/routers/${r.id}`, { body: { router: { name: 'x' } } })).status, 404);
    assert.equal((await suite.bob.network.send('DELETE', `/v2.0/routers/${r.id}`)).status, 404);

    const bobs = await suite.bob.network.send('GET', '/v2.0/routers');
    assert.ok(!bobs.body.routers.some((x: { id: string }) => x.id === r.id));
    const mine = await suite.alice.network.send('GET', '/v2.0/routers?name=r1&fields=id&fields=name');
    assert.deepEqual(mine.body.routers, [{ id: r.id, name: 'r1' }]);

    const updated = await suite.alice.network.send('PUT', `/v2.0/routers/${r.id}`, { body: { router: { name: 'r1b', admin_state_up: false } } });
    assert.equal(updated.status, 200, JSON.stringify(updated.body));
    assert.equal(updated.body.router.name, 'r1b');
    assert.equal(updated.body.router.admin_state_up, false);
    assert.equal(updated.body.router.revision_number, 1);

    const readOnly = await suite.alice.network.send('PUT', `/v2.0/routers/${r.id}`, { body: { router: { project_id: suite.bob.projectId } } });
    assert.equal(readOnly.status, 400);
    const unknown = await suite.alice.network.send('POST', '/v2.0/routers', { body: { router: { colour: 'red' } } });
    assert.equal(unknown.status, 400);
    const ha = await suite.alice.network.send('POST', '/v2.0/routers', { body: { router: { ha: true } } });
    assert.equal(ha.status, 403);
    const adminHa = await suite.cloud.network.send('POST', '/v2.0/routers', { body: { router: { name: 'ha', ha: true, distributed: true } } });
    assert.equal(adminHa.status, 201);
    assert.equal(adminHa.body.router.ha, true);
    assert.equal(adminHa.body.router.distributed, true);
    assert.equal((await suite.cloud.network.send('DELETE', `/v2.0/routers/${adminHa.body.router.id}`)).status, 204);

    const deleted = await suite.alice.network.send('DELETE', `/v2.0/routers/${r.id}`);
    assert.equal(deleted.status, 204);
    assert.equal((await suite.alice.network.send('GET', `/v2.0/routers/${r.id}`)).status, 404);
  });

  test('external gateway: set, enable_snat policy, validation, clear', async () => {
    const r = (await suite.alice.network.send('POST', '/v2.0/routers', {
      body: { router: { name: 'gw', external_gateway_info: { network_id: publicNet.networkId } } },
    })).body.router;
    const gw = r.external_gateway_info;
    assert.equal(gw.network_id, publicNet.networkId);
    assert.equal(gw.enable_snat, true);
    assert.equal(gw.external_fixed_ips.length, 1);
    assert.equal(gw.external_fixed_ips[0].subnet_id, publicNet.subnetId);
    assert.match(gw.external_fixed_ips[0].ip_address, /^172\.24\.4\.\d+$/);
    assert.equal(r.revision_number, 0);
    const ports = await suite.cloud.networkService.deps.data.db.selectFrom('port').selectAll().where('device_id', '=', r.id).execute();
    assert.equal(ports.length, 1);
    assert.equal(ports[0]!.device_owner, 'network:router_gateway');
    assert.equal(ports[0]!.network_id, publicNet.networkId);

    const snat = await suite.alice.network.send('PUT', `/v2.0/routers/${r.id}`, {
      body: { router: { external_gateway_info: { network_id: publicNet.networkId, enable_snat: false } } },
    });
    assert.equal(snat.status, 403);
    assert.equal(snat.body.NeutronError.type, 'PolicyNotAuthorized');
    const adminSnat = await suite.cloud.network.send('PUT', `/v2.0/routers/${r.id}`, {
      body: { router: { external_gateway_info: { network_id: publicNet.networkId, enable_snat: false } } },
    });
    assert.equal(adminSnat.status, 200, JSON.stringify(adminSnat.body));
    assert.equal(adminSnat.body.router.external_gateway_info.enable_snat, false);
    assert.deepEqual(adminSnat.body.router.external_gateway_info.external_fixed_ips, gw.external_fixed_ips, 'the gateway port is kept');

    const fixed = await suite.cloud.network.send('PUT', `/v2.0/routers/${r.id}`, {
      body: { router: { external_gateway_info: { network_id: publicNet.networkId, external_fixed_ips: [{ ip_address: '172.24.4.200' }] } } },
    });
    assert.equal(fixed.status, 200, JSON.stringify(fixed.body));
    assert.deepEqual(fixed.body.router.external_gateway_info.external_fixed_ips, [{ subnet_id: publicNet.subnetId, ip_address: '172.24.4.200' }]);

    const privateNet = await tenantNetwork(suite.cloud, suite.alice, '10.9.0.0/24');
    const notExternal = await suite.alice.network.send('PUT', `/v2.0/routers/${r.id}`, {
      body: { router: { external_gateway_info: { network_id: privateNet.networkId } } },
    });
    assert.equal(notExternal.status, 400);
    assert.match(notExternal.body.NeutronError.message, /is not an external network/);
    const missing = await suite.alice.network.send('PUT', `/v2.0/routers/${r.id}`, {
      body: { router: { external_gateway_info: { network_id: '00000000-0000-0000-0000-000000000000' } } },
    });
    assert.equal(missing.status, 404);
    assert.equal(missing.body.NeutronError.type, 'NetworkNotFound');

    const cleared = await suite.alice.network.send('PUT', `/v2.0/routers/${r.id}`, { body: { router: { external_gateway_info: {} } } });
    assert.equal(cleared.status, 200, JSON.stringify(cleared.body));
    assert.equal(cleared.body.router.external_gateway_info, null);
    assert.equal((await suite.cloud.networkService.deps.data.db.selectFrom('port').select('id').where('device_id', '=', r.id).execute()).length, 0);

    // the address is free again, and deleting a router removes its gateway port
    await suite.alice.network.call('PUT', `/v2.0/routers/${r.id}`, { body: { router: { external_gateway_info: { network_id: publicNet.networkId } } } });
    assert.equal((await suite.alice.network.send('DELETE', `/v2.0/routers/${r.id}`)).status, 204);
    assert.equal((await suite.cloud.networkService.deps.data.db.selectFrom('port').select('id').where('device_id', '=', r.id).execute()).length, 0);
  });

  test('interfaces by subnet and by port, overlap and in-use rules, routes', async () => {
    const r = (await suite.alice.network.send('POST', '/v2.0/routers', { body: { router: { name: 'ifaces' } } })).body.router;
    const net1 = await tenantNetwork(suite.cloud, suite.alice, '10.1.0.0/24');
    const added = await suite.alice.network.send('PUT', `/v2.0/routers/${r.id}/add_router_interface`, { body: { subnet_id: net1.subnetId } });
    assert.equal(added.status, 200, JSON.stringify(added.body));
    const info = added.body;
    assert.equal(info.id, r.id);
    assert.equal(info.subnet_id, net1.subnetId);
    assert.deepEqual(info.subnet_ids, [net1.subnetId]);
    assert.equal(info.network_id, net1.networkId);
    assert.equal(info.project_id, suite.alice.projectId);
    assert.equal(info.tenant_id, suite.alice.projectId);
    const port = await portRow(suite.cloud, info.port_id);
    assert.equal(port?.device_owner, 'network:router_interface');
    assert.equal(port?.device_id, r.id);
    assert.deepEqual(await addressesOf(suite.cloud, info.port_id), [{ subnet_id: net1.subnetId, ip_address: '10.1.0.1' }]);

    const again = await suite.alice.network.send('PUT', `/v2.0/routers/${r.id}/add_router_interface`, { body: { subnet_id: net1.subnetId } });
    assert.equal(again.status, 400);
    assert.match(again.body.NeutronError.message, /Router already has a port on subnet/);
    const overlapping = await tenantNetwork(suite.cloud, suite.alice, '10.1.0.0/25');
    const overlap = await suite.alice.network.send('PUT', `/v2.0/routers/${r.id}/add_router_interface`, { body: { subnet_id: overlapping.subnetId } });
    assert.equal(overlap.status, 400);
    assert.match(overlap.body.NeutronError.message, /overlaps with cidr 10\.1\.0\.0\/24/);
    const noGateway = await tenantNetwork(suite.cloud, suite.alice, '10.3.0.0/24', null);
    const noGw = await suite.alice.network.send('PUT', `/v2.0/routers/${r.id}/add_router_interface`, { body: { subnet_id: noGateway.subnetId } });
    assert.equal(noGw.status, 400);
    assert.match(noGw.body.NeutronError.message, /must have a gateway IP/);
    const neither = await suite.alice.network.send('PUT', `/v2.0/routers/${r.id}/add_router_interface`, { body: {} });
    assert.equal(neither.status, 400);
    const bobsNet = await tenantNetwork(suite.cloud, suite.bob, '10.4.0.0/24');
    const foreign = await suite.alice.network.send('PUT', `/v2.0/routers/${r.id}/add_router_interface`, { body: { subnet_id: bobsNet.subnetId } });
    assert.equal(foreign.status, 404);
    assert.equal(foreign.body.NeutronError.type, 'SubnetNotFound');

    const inUse = await suite.alice.network.send('DELETE', `/v2.0/routers/${r.id}`);
    assert.equal(inUse.status, 409);
    assert.equal(inUse.body.NeutronError.type, 'RouterInUse');

    // extra routes: next hops on a connected subnet, not the router's own address
    const badHop = await suite.alice.network.send('PUT', `/v2.0/routers/${r.id}`, { body: { router: { routes: [{ destination: '192.168.0.0/24', nexthop: '10.50.0.5' }] } } });
    assert.equal(badHop.status, 400);
    assert.equal(badHop.body.NeutronError.type, 'InvalidRoutes');
    assert.match(badHop.body.NeutronError.message, /the nexthop is not connected with router/);
    const ownHop = await suite.alice.network.send('PUT', `/v2.0/routers/${r.id}`, { body: { router: { routes: [{ destination: '192.168.0.0/24', nexthop: '10.1.0.1' }] } } });
    assert.equal(ownHop.status, 400);
    assert.equal(ownHop.body.NeutronError.type, 'InvalidRoutes');
    const malformed = await suite.alice.network.send('PUT', `/v2.0/routers/${r.id}`, { body: { router: { routes: [{ destination: 'nope', nexthop: '10.1.0.5' }] } } });
    assert.equal(malformed.status, 400);
    const routes = [{ destination: '192.168.0.0/24', nexthop: '10.1.0.5' }];
    const routed = await suite.alice.network.send('PUT', `/v2.0/routers/${r.id}`, { body: { router: { routes } } });
    assert.equal(routed.status, 200, JSON.stringify(routed.body));
    assert.deepEqual(routed.body.router.routes, routes);
    const needed = await suite.alice.network.send('PUT', `/v2.0/routers/${r.id}/remove_router_interface`, { body: { subnet_id: net1.subnetId } });
    assert.equal(needed.status, 409);
    assert.equal(needed.body.NeutronError.type, 'RouterInterfaceInUseByRoute');
    await suite.alice.network.call('PUT', `/v2.0/routers/${r.id}`, { body: { router: { routes: [] } } });

    // by port: a plain port becomes the interface; an owned one is in use
    const net2 = await tenantNetwork(suite.cloud, suite.alice, '10.2.0.0/24');
    const plain = await vmPort(suite.cloud, net2.networkId, suite.alice.projectId);
    const byPort = await suite.alice.network.send('PUT', `/v2.0/routers/${r.id}/add_router_interface`, { body: { port_id: plain } });
    assert.equal(byPort.status, 200, JSON.stringify(byPort.body));
    assert.equal(byPort.body.port_id, plain);
    assert.equal(byPort.body.subnet_id, net2.subnetId);
    assert.equal((await portRow(suite.cloud, plain))?.device_owner, 'network:router_interface');
    const owned = await suite.alice.network.send('PUT', `/v2.0/routers/${r.id}/add_router_interface`, { body: { port_id: plain } });
    assert.equal(owned.status, 409);
    assert.equal(owned.body.NeutronError.type, 'PortInUse');
    const bobsPort = await vmPort(suite.cloud, bobsNet.networkId, suite.bob.projectId);
    const notMine = await suite.alice.network.send('PUT', `/v2.0/routers/${r.id}/add_router_interface`, { body: { port_id: bobsPort } });
    assert.equal(notMine.status, 404);
    assert.equal(notMine.body.NeutronError.type, 'PortNotFound');

    const shown = (await suite.alice.network.send('GET', `/v2.0/routers/${r.id}`)).body.router;
    assert.ok(shown.revision_number >= 4, 'interface changes bump the revision');

    const wrongPort = await suite.alice.network.send('PUT', `/v2.0/routers/${r.id}/remove_router_interface`, { body: { port_id: bobsPort } });
    assert.equal(wrongPort.status, 404);
    assert.equal(wrongPort.body.NeutronError.type, 'RouterInterfaceNotFound');
    const wrongSubnet = await suite.alice.network.send('PUT', `/v2.0/routers/${r.id}/remove_router_interface`, { body: { subnet_id: overlapping.subnetId } });
    assert.equal(wrongSubnet.status, 404);
    assert.equal(wrongSubnet.body.NeutronError.type, 'RouterInterfaceNotFoundForSubnet');

    const removedByPort = await suite.alice.network.send('PUT', `/v2.0/routers/${r.id}/remove_router_interface`, { body: { port_id: plain } });
    assert.equal(removedByPort.status, 200, JSON.stringify(removedByPort.body));
    assert.equal(removedByPort.body.subnet_id, net2.subnetId);
    assert.equal(await portRow(suite.cloud, plain), undefined, 'the interface port is deleted');
    const removedBySubnet = await suite.alice.network.send('PUT', `/v2.0/routers/${r.id}/remove_router_interface`, { body: { subnet_id: net1.subnetId } });
    assert.equal(removedBySubnet.status, 200, JSON.stringify(removedBySubnet.body));
    assert.equal(removedBySubnet.body.port_id, info.port_id);
    assert.equal(await portRow(suite.cloud, info.port_id), undefined);
    assert.equal((await suite.alice.network.send('DELETE', `/v2.0/routers/${r.id}`)).status, 204);
  });

  test('an interface may not overlap the gateway subnet', async () => {
    const r = (await suite.alice.network.send('POST', '/v2.0/routers', {
      body: { router: { external_gateway_info: { network_id: publicNet.networkId } } },
    })).body.router;
    const clash = await tenantNetwork(suite.cloud, suite.alice, '172.24.4.0/24');
    const res = await suite.alice.network.send('PUT', `/v2.0/routers/${r.id}/add_router_interface`, { body: { subnet_id: clash.subnetId } });
    assert.equal(res.status, 400);
    // a next hop on the gateway's subnet is connected
    const routed = await suite.alice.network.send('PUT', `/v2.0/routers/${r.id}`, { body: { router: { routes: [{ destination: '0.0.0.0/0', nexthop: '172.24.4.254' }] } } });
    assert.equal(routed.status, 200, JSON.stringify(routed.body));
    assert.equal((await suite.alice.network.send('DELETE', `/v2.0/routers/${r.id}`)).status, 204);
  });

  test('router quota is a 409 OverQuota', async () => {
    const carol = await suite.cloud.projectUser('member');
    await setQuota(suite.cloud, carol.projectId, 'router', 1);
    assert.equal((await carol.network.send('POST', '/v2.0/routers', { body: { router: { name: 'one' } } })).status, 201);
    const over = await carol.network.send('POST', '/v2.0/routers', { body: { router: { name: 'two' } } });
    assert.equal(over.status, 409);
    assert.equal(over.body.NeutronError.type, 'OverQuota');
  });

  test('admins may add another project\'s subnet; an unused helper network stays usable', async () => {
    const r = (await suite.cloud.network.send('POST', '/v2.0/routers', { body: { router: { name: 'admin-r', project_id: suite.alice.projectId } } })).body.router;
    assert.equal(r.project_id, suite.alice.projectId);
    const other = await suite.alice.network.send('POST', '/v2.0/routers', { body: { router: { project_id: suite.bob.projectId } } });
    assert.equal(other.status, 400, 'only admins name another project');
    const netId = await createNetwork(suite.alice.network, { name: 'spare' });
    const subnetId = await addSubnet(suite.cloud, netId, suite.alice.projectId, '10.77.0.0/24');
    const added = await suite.cloud.network.send('PUT', `/v2.0/routers/${r.id}/add_router_interface`, { body: { subnet_id: subnetId } });
    assert.equal(added.status, 200, JSON.stringify(added.body));
    assert.equal(added.body.project_id, suite.alice.projectId);
    await suite.cloud.network.call('PUT', `/v2.0/routers/${r.id}/remove_router_interface`, { body: { subnet_id: subnetId } });
    await suite.cloud.network.call('DELETE', `/v2.0/routers/${r.id}`);
  });
});
