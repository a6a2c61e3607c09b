import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { describeNetworkApi } from '../../testing/network-suite.ts';
import { deletePort } from '../ports/create-port.ts';
import { addressesOf, externalNetwork, portRow, setQuota, tenantNetwork, vmPort } from '../l3/test-fixtures.ts';


await describeNetworkApi('floating IPs', (suite) => {
  let publicNet: { networkId: string; subnetId: string };
  let privateNet: { networkId: string; subnetId: string };
  let routerId: string;
  before(async () => {
    publicNet = await externalNetwork(suite.cloud);
    privateNet = await tenantNetwork(suite.cloud, suite.alice, '10.0.0.0/24');
    routerId = (await suite.alice.network.call('POST', '/v2.0/routers', {
      body: { router: { name: 'r', external_gateway_info: { network_id: publicNet.networkId } } },
    })).body.router.id;
    await suite.alice.network.call('PUT', `/v2.0/routers/${routerId}/add_router_interface`, { body: { subnet_id: privateNet.subnetId } });
  });

  test('allocate on an external network; shows, lists, deletes', async () => {
    const created = await suite.alice.network.send('POST', '/v2.0/floatingips', {
      body: { floatingip: { floating_network_id: publicNet.networkId, description: 'web' } },
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const fip = created.body.floatingip;
    assert.match(fip.floating_ip_address, /^172\.24\.4\.\d+$/);
    assert.equal(fip.floating_network_id, publicNet.networkId);
    assert.equal(fip.status, 'DOWN');
    assert.equal(fip.port_id, null);
    assert.equal(fip.fixed_ip_address, null);
    assert.equal(fip.router_id, null);
    assert.equal(fip.port_details, null);
    assert.deepEqual(fip.port_forwardings, []);
    assert.equal(fip.qos_policy_id, null);
    assert.equal(fip.description, 'web');
    assert.equal(fip.dns_name, '');
    assert.equal(fip.dns_domain, '');
    assert.equal(fip.project_id, suite.alice.projectId);
    assert.equal(fip.tenant_id, suite.alice.projectId);
    assert.equal(fip.revision_number, 0);
    assert.deepEqual(fip.tags, []);

    // the address is a port on the external network owned by the floating IP
    const ports = await suite.cloud.networkService.deps.data.db.selectFrom('port').selectAll().where('device_id', '=', fip.id).execute();
    assert.equal(ports.length, 1);
    assert.equal(ports[0]!.device_owner, 'network:floatingip');
    assert.equal(ports[0]!.network_id, publicNet.networkId);
    assert.deepEqual((await addressesOf(suite.cloud, ports[0]!.id)).map((a) => a.ip_address), [fip.floating_ip_address]);

    assert.deepEqual((await suite.alice.network.send('GET', `/v2.0/floatingips/${fip.id}`)).body.floatingip, fip);
    const hidden = await suite.bob.network.send('GET', `/v2.0/floatingips/${fip.id}`);
    assert.equal(hidden.status, 404);
    assert.equal(hidden.body.NeutronError.type, 'FloatingIPNotFound');
    assert.ok(!(await suite.bob.network.send('GET', '/v2.0/floatingips')).body.floatingips.some((f: { id: string }) => f.id === fip.id));
    const filtered = await suite.alice.network.send('GET', `/v2.0/floatingips?floating_ip_address=${fip.floating_ip_address}`);
    assert.deepEqual(filtered.body.floatingips.map((f: { id: string }) => f.id), [fip.id]);

    assert.equal((await suite.bob.network.send('DELETE', `/v2.0/floatingips/${fip.id}`)).status, 404);
    assert.equal((await suite.alice.network.send('DELETE', `/v2.0/floatingips/${fip.id}`)).status, 204);
    assert.equal((await suite.alice.network.send('GET', `/v2.0/floatingips/${fip.id}`)).status, 404);
    assert.equal(await portRow(suite.cloud, ports[0]!.id), undefined, 'its port is gone');
  });

  test('only external networks; a specific address is admin-only and unique', async () => {
    const notExternal = await suite.alice.network.send('POST', '/v2.0/floatingips', { body: { floatingip: { floating_network_id: privateNet.networkId } } });
    assert.equal(notExternal.status, 400);
    assert.equal(notExternal.body.NeutronError.message, `Bad floatingip request: Network ${privateNet.networkId} is not a valid external network.`);
    const missing = await suite.alice.network.send('POST', '/v2.0/floatingips', { body: { floatingip: { floating_network_id: '00000000-0000-0000-0000-000000000000' } } });
    assert.equal(missing.status, 404);
    assert.equal(missing.body.NeutronError.type, 'NetworkNotFound');
    const noNetwork = await suite.alice.network.send('POST', '/v2.0/floatingips', { body: { floatingip: {} } });
    assert.equal(noNetwork.status, 400);

    const chosen = await suite.alice.network.send('POST', '/v2.0/floatingips', {
      body: { floatingip: { floating_network_id: publicNet.networkId, floating_ip_address: '172.24.4.77' } },
    });
    assert.equal(chosen.status, 403);
    const forAlice = await suite.cloud.network.send('POST', '/v2.0/floatingips', {
      body: { floatingip: { floating_network_id: publicNet.networkId, floating_ip_address: '172.24.4.77', project_id: suite.alice.projectId } },
    });
    assert.equal(forAlice.status, 201, JSON.stringify(forAlice.body));
    assert.equal(forAlice.body.floatingip.floating_ip_address, '172.24.4.77');
    assert.equal(forAlice.body.floatingip.project_id, suite.alice.projectId);
    const taken = await suite.cloud.network.send('POST', '/v2.0/floatingips', {
      body: { floatingip: { floating_network_id: publicNet.networkId, floating_ip_address: '172.24.4.77' } },
    });
    assert.equal(taken.status, 409);
    assert.equal(taken.body.NeutronError.type, 'IpAddressAlreadyAllocated');
    const outside = await suite.cloud.network.send('POST', '/v2.0/floatingips', {
      body: { floatingip: { floating_network_id: publicNet.networkId, floating_ip_address: '10.10.10.10' } },
    });
    assert.equal(outside.status, 400);
    const bySubnet = await suite.alice.network.send('POST', '/v2.0/floatingips', {
      body: { floatingip: { floating_network_id: publicNet.networkId, subnet_id: publicNet.subnetId } },
    });
    assert.equal(bySubnet.status, 201, JSON.stringify(bySubnet.body));
    await suite.alice.network.call('DELETE', `/v2.0/floatingips/${bySubnet.body.floatingip.id}`);
    await suite.alice.network.call('DELETE', `/v2.0/floatingips/${forAlice.body.floatingip.id}`);
  });

  test('associate, move, disassociate; reachability and ownership rules', async () => {
    const vm = await vmPort(suite.cloud, privateNet.networkId, suite.alice.projectId);
    const vmAddress = (await addressesOf(suite.cloud, vm))[0]!.ip_address;
    const created = await suite.alice.network.send('POST', '/v2.0/floatingips', {
      body: { floatingip: { floating_network_id: publicNet.networkId, port_id: vm } },
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const fip = created.body.floatingip;
    assert.equal(fip.port_id, vm);
    assert.equal(fip.fixed_ip_address, vmAddress);
    assert.equal(fip.router_id, routerId);
    assert.equal(fip.status, 'ACTIVE');
    assert.equal(fip.port_details.network_id, privateNet.networkId);
    assert.equal(fip.port_details.name, 'vm');
    assert.equal(fip.port_details.admin_state_up, true);
    assert.match(fip.port_details.mac_address, /^fa:16:3e/);
    const byPort = await suite.alice.network.send('GET', `/v2.0/floatingips?port_id=${vm}`);
    assert.deepEqual(byPort.body.floatingips.map((f: { id: string }) => f.id), [fip.id]);
    const byRouter = await suite.alice.network.send('GET', `/v2.0/floatingips?router_id=${routerId}&status=ACTIVE`);
    assert.deepEqual(byRouter.body.floatingips.map((f: { id: string }) => f.id), [fip.id]);

    // a second floating IP for the same fixed address
    const second = (await suite.alice.network.call('POST', '/v2.0/floatingips', { body: { floatingip: { floating_network_id: publicNet.networkId } } })).body.floatingip;
    const dup = await suite.alice.network.send('PUT', `/v2.0/floatingips/${second.id}`, { body: { floatingip: { port_id: vm } } });
    assert.equal(dup.status, 409);
    assert.equal(dup.body.NeutronError.type, 'FloatingIPPortAlreadyAssociated');
    const wrongIp = await suite.alice.network.send('PUT', `/v2.0/floatingips/${second.id}`, { body: { floatingip: { port_id: vm, fixed_ip_address: '10.0.0.250' } } });
    assert.equal(wrongIp.status, 400);

    // a port on a subnet no router connects to the external network
    const lonely = await tenantNetwork(suite.cloud, suite.alice, '10.20.0.0/24');
    const lonelyPort = await vmPort(suite.cloud, lonely.networkId, suite.alice.projectId);
    const unreachable = await suite.alice.network.send('PUT', `/v2.0/floatingips/${second.id}`, { body: { floatingip: { port_id: lonelyPort } } });
    assert.equal(unreachable.status, 404);
    assert.equal(unreachable.body.NeutronError.type, 'ExternalGatewayForFloatingIPNotFound');
    assert.equal(unreachable.body.NeutronError.message,
      `External network ${publicNet.networkId} is not reachable from subnet ${lonely.subnetId}.  Therefore, cannot associate Port ${lonelyPort} with a Floating IP.`);

    // another project's port is not found
    const bobsNet = await tenantNetwork(suite.cloud, suite.bob, '10.30.0.0/24');
    const bobsPort = await vmPort(suite.cloud, bobsNet.networkId, suite.bob.projectId);
    const foreign = await suite.alice.network.send('PUT', `/v2.0/floatingips/${second.id}`, { body: { floatingip: { port_id: bobsPort } } });
    assert.equal(foreign.status, 404);
    assert.equal(foreign.body.NeutronError.type, 'PortNotFound');

    // the router's interface and gateway are needed while the floating IP is associated
    const iface = await suite.alice.network.send('PUT', `/v2.0/routers/${routerId}/remove_router_interface`, { body: { subnet_id: privateNet.subnetId } });
    assert.equal(iface.status, 409);
    assert.equal(iface.body.NeutronError.type, 'RouterInterfaceInUseByFloatingIP');
    const gw = await suite.alice.network.send('PUT', `/v2.0/routers/${routerId}`, { body: { router: { external_gateway_info: null } } });
    assert.equal(gw.status, 409);
    assert.equal(gw.body.NeutronError.type, 'RouterExternalGatewayInUseByFloatingIp');

    // disassociate, then move the second one onto the port
    const off = await suite.alice.network.send('PUT', `/v2.0/floatingips/${fip.id}`, { body: { floatingip: { port_id: null } } });
    assert.equal(off.status, 200, JSON.stringify(off.body));
    assert.equal(off.body.floatingip.port_id, null);
    assert.equal(off.body.floatingip.fixed_ip_address, null);
    assert.equal(off.body.floatingip.router_id, null);
    assert.equal(off.body.floatingip.status, 'DOWN');
    assert.equal(off.body.floatingip.port_details, null);
    assert.equal(off.body.floatingip.revision_number, 1);
    const on = await suite.alice.network.send('PUT', `/v2.0/floatingips/${second.id}`, { body: { floatingip: { port_id: vm, fixed_ip_address: vmAddress } } });
    assert.equal(on.status, 200, JSON.stringify(on.body));
    assert.equal(on.body.floatingip.status, 'ACTIVE');
    assert.equal(on.body.floatingip.router_id, routerId);

    const readOnly = await suite.alice.network.send('PUT', `/v2.0/floatingips/${second.id}`, { body: { floatingip: { floating_ip_address: '172.24.4.9' } } });
    assert.equal(readOnly.status, 400);

    // a deleted port lets go of its floating IP
    const deps = suite.cloud.networkService.deps;
    await deps.data.write((tx) => deletePort(tx, deps, vm));
    const after = (await suite.alice.network.call('GET', `/v2.0/floatingips/${second.id}`)).body.floatingip;
    assert.equal(after.port_id, null);
    assert.equal(after.status, 'DOWN');
    assert.equal(after.router_id, null);

    // and now the router can be taken apart
    await suite.alice.network.call('DELETE', `/v2.0/floatingips/${fip.id}`);
    await suite.alice.network.call('DELETE', `/v2.0/floatingips/${second.id}`);
  });

  test('two floating IPs raced onto one fixed address: exactly one wins, the other is a 409', async () => {
    const vm = await vmPort(suite.cloud, privateNet.networkId, suite.alice.projectId);
    const make = async () => (await suite.alice.network.call('POST', '/v2.0/floatingips', { body: { floatingip: { floating_network_id: publicNet.networkId } } })).body.floatingip.id;
    const fips = await Promise.all(Array.from({ length: 6 }, make));
    const results = await Promise.all(fips.map((id) => suite.alice.network.send('PUT', `/v2.0/floatingips/${id}`, { body: { floatingip: { port_id: vm } } })));
    assert.equal(results.filter((r) => r.status === 200).length, 1, JSON.stringify(results.map((r) => r.status)));
    for (const r of results.filter((x) => x.status !== 200)) {
      assert.equal(r.status, 409);
      assert.equal(r.body.NeutronError.type, 'FloatingIPPortAlreadyAssociated');
    }
    const bound = await suite.alice.network.send('GET', `/v2.0/floatingips?port_id=${vm}`);
    assert.equal(bound.body.floatingips.length, 1);
    for (const id of fips) await suite.alice.network.send('DELETE', `/v2.0/floatingips/${id}`);
  });

  test('floating IP quota is a 409 OverQuota', async () => {
    const carol = await suite.cloud.projectUser('member');
    await setQuota(suite.cloud, carol.projectId, 'floatingip', 1);
    const first = await carol.network.send('POST', '/v2.0/floatingips', { body: { floatingip: { floating_network_id: publicNet.networkId } } });
    assert.equal(first.status, 201);
    const over = await carol.network.send('POST', '/v2.0/floatingips', { body: { floatingip: { floating_network_id: publicNet.networkId } } });
    assert.equal(over.status, 409);
    assert.equal(over.body.NeutronError.type, 'OverQuota');
  });

  test('the router comes apart once nothing uses it', async () => {
    await suite.alice.network.call('PUT', `/v2.0/routers/${routerId}/remove_router_interface`, { body: { subnet_id: privateNet.subnetId } });
    await suite.alice.network.call('PUT', `/v2.0/routers/${routerId}`, { body: { router: { external_gateway_info: {} } } });
    assert.equal((await suite.alice.network.send('DELETE', `/v2.0/routers/${routerId}`)).status, 204);
  });
});
