// Subnets, subnet pools and network IP availability through the API, on every database.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { describeNetworkApi } from '../../testing/network-suite.ts';
import type { RestClient } from '../../clients/http.ts';

const fault = (res: { status: number; body: any }) => `${res.status} ${res.body?.NeutronError?.type}`;

await describeNetworkApi('subnets', (suite) => {
  const network = async (client: RestClient, extra: Record<string, unknown> = {}): Promise<string> => {
    const res = await client.send('POST', '/v2.0/networks', { body: { network: { name: 'n', ...extra } } });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    return res.body.network.id;
  };
  const subnet = (client: RestClient, body: Record<string, unknown>) => client.send('POST', '/v2.0/subnets', { body: { subnet: { ip_version: 4, ...body } } });

  test('defaults: first address as gateway, pools around it, DHCP on', async () => {
    const net = await network(suite.alice.network);
    const res = await subnet(suite.alice.network, { network_id: net, cidr: '10.0.0.0/24', name: 'one' });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    const s = res.body.subnet;
    assert.equal(s.gateway_ip, '10.0.0.1');
    assert.deepEqual(s.allocation_pools, [{ start: '10.0.0.2', end: '10.0.0.254' }]);
    assert.equal(s.enable_dhcp, true);
    assert.deepEqual(s.dns_nameservers, []);
    assert.deepEqual(s.host_routes, []);
    assert.equal(s.ip_version, 4);
    assert.equal(s.cidr, '10.0.0.0/24');
    assert.equal(s.project_id, suite.alice.projectId);
    assert.equal(s.tenant_id, suite.alice.projectId);
    assert.equal(s.revision_number, 0);
    assert.deepEqual(s.tags, []);
    assert.equal(s.subnetpool_id, null);
    assert.equal(s.ipv6_ra_mode, null);
    assert.equal(s.ipv6_address_mode, null);
    assert.match(s.created_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    const shown = await suite.alice.network.send('GET', `/v2.0/subnets/${s.id}`);
    assert.deepEqual(shown.body.subnet, s);
    const fields = await suite.alice.network.send('GET', `/v2.0/subnets/${s.id}?fields=id&fields=cidr`);
    assert.deepEqual(fields.body.subnet, { id: s.id, cidr: '10.0.0.0/24' });
    const listed = await suite.alice.network.send('GET', `/v2.0/subnets?network_id=${net}`);
    assert.deepEqual(listed.body.subnets.map((x: any) => x.id), [s.id]);
    const net2 = await suite.alice.network.send('GET', `/v2.0/networks/${net}`);
    assert.deepEqual(net2.body.network.subnets, [s.id]);
  });

  test('explicit gateway, no gateway, gateway outside the subnet', async () => {
    const net = await network(suite.alice.network);
    const explicit = await subnet(suite.alice.network, { network_id: net, cidr: '10.1.0.0/24', gateway_ip: '10.1.0.254' });
    assert.equal(explicit.status, 201);
    assert.equal(explicit.body.subnet.gateway_ip, '10.1.0.254');
    assert.deepEqual(explicit.body.subnet.allocation_pools, [{ start: '10.1.0.1', end: '10.1.0.253' }]);
    const none = await subnet(suite.alice.network, { network_id: net, cidr: '10.2.0.0/24', gateway_ip: null });
    assert.equal(none.status, 201);
    assert.equal(none.body.subnet.gateway_ip, null);
    assert.deepEqual(none.body.subnet.allocation_pools, [{ start: '10.2.0.1', end: '10.2.0.254' }]);
    const outside = await subnet(suite.alice.network, { network_id: net, cidr: '10.3.0.0/24', gateway_ip: '10.9.0.1' });
    assert.equal(fault(outside), '400 InvalidInput');
    assert.equal(outside.body.NeutronError.message, 'Invalid input for operation: Gateway is not valid on subnet.');
    assert.equal(fault(await subnet(suite.alice.network, { network_id: net, cidr: '10.3.0.0/24', gateway_ip: '10.3.0.255' })), '400 InvalidInput');
    assert.equal(fault(await subnet(suite.alice.network, { network_id: net, cidr: '10.3.0.0/24', gateway_ip: 'x' })), '400 HTTPBadRequest');
    assert.equal(fault(await subnet(suite.alice.network, { network_id: net, cidr: '10.3.0.0/24', gateway_ip: '2001:db8::1' })), '400 InvalidInput');
  });

  test('bad CIDRs and overlaps are 400s', async () => {
    const net = await network(suite.alice.network);
    const hostBits = await subnet(suite.alice.network, { network_id: net, cidr: '10.4.0.1/24' });
    assert.equal(fault(hostBits), '400 HTTPBadRequest');
    assert.equal(hostBits.body.NeutronError.message, "Invalid input for cidr. Reason: '10.4.0.1/24' isn't a recognized IP subnet cidr, '10.4.0.0/24' is recommended.");
    for (const cidr of ['banana', '10.4.0.0/33', '300.1.1.0/24', '10.4.0.0']) {
      assert.equal(fault(await subnet(suite.alice.network, { network_id: net, cidr })), '400 HTTPBadRequest', cidr);
    }
    assert.equal(fault(await subnet(suite.alice.network, { network_id: net, cidr: '2001:db8::/64' })), '400 InvalidInput', 'version mismatch');
    assert.equal(fault(await subnet(suite.alice.network, { network_id: net, cidr: '10.4.0.0/24', ip_version: 5 })), '400 HTTPBadRequest');
    assert.equal(fault(await subnet(suite.alice.network, { network_id: net })), '400 BadRequest', 'no cidr and no pool');
    assert.equal(fault(await subnet(suite.alice.network, { network_id: net, cidr: '10.4.0.0/24', bogus: 1 })), '400 HTTPBadRequest');
    assert.equal(fault(await subnet(suite.alice.network, { network_id: net, cidr: '10.4.0.0/31' })), '400 InvalidInput', 'too small for DHCP');
    assert.equal((await subnet(suite.alice.network, { network_id: net, cidr: '10.4.0.0/16' })).status, 201);
    const overlap = await subnet(suite.alice.network, { network_id: net, cidr: '10.4.5.0/24' });
    assert.equal(fault(overlap), '400 InvalidInput');
    assert.equal(overlap.body.NeutronError.message, `Invalid input for operation: Requested subnet with cidr: 10.4.5.0/24 for network: ${net} overlaps with another subnet.`);
    // the same range on another network is fine (overlapping IPs across networks)
    assert.equal((await subnet(suite.alice.network, { network_id: await network(suite.alice.network), cidr: '10.4.5.0/24' })).status, 201);
  });

  test('allocation pools: explicit, overlapping, outside, holding the gateway', async () => {
    const net = await network(suite.alice.network);
    const ok = await subnet(suite.alice.network, { network_id: net, cidr: '10.5.0.0/24', allocation_pools: [{ start: '10.5.0.100', end: '10.5.0.150' }, { start: '10.5.0.10', end: '10.5.0.20' }] });
    assert.equal(ok.status, 201);
    assert.deepEqual(ok.body.subnet.allocation_pools, [{ start: '10.5.0.100', end: '10.5.0.150' }, { start: '10.5.0.10', end: '10.5.0.20' }]);
    const conflict = await subnet(suite.alice.network, { network_id: net, cidr: '10.6.0.0/24', allocation_pools: [{ start: '10.6.0.1', end: '10.6.0.50' }] });
    assert.equal(fault(conflict), '409 GatewayConflictWithAllocationPools');
    assert.equal(conflict.body.NeutronError.message, 'Gateway ip 10.6.0.1 conflicts with allocation pool 10.6.0.1-10.6.0.50.');
    assert.equal(fault(await subnet(suite.alice.network, { network_id: net, cidr: '10.6.0.0/24', allocation_pools: [{ start: '10.6.0.2', end: '10.6.0.50' }, { start: '10.6.0.40', end: '10.6.0.60' }] })), '409 OverlappingAllocationPools');
    assert.equal(fault(await subnet(suite.alice.network, { network_id: net, cidr: '10.6.0.0/24', allocation_pools: [{ start: '10.6.0.2', end: '10.6.1.5' }] })), '400 OutOfBoundsAllocationPool');
    assert.equal(fault(await subnet(suite.alice.network, { network_id: net, cidr: '10.6.0.0/24', allocation_pools: [{ start: '10.6.0.9', end: '10.6.0.2' }] })), '400 InvalidAllocationPool');
    // the gateway may sit anywhere outside the pools
    const moved = await subnet(suite.alice.network, { network_id: net, cidr: '10.6.0.0/24', gateway_ip: '10.6.0.99', allocation_pools: [{ start: '10.6.0.2', end: '10.6.0.50' }] });
    assert.equal(moved.status, 201);
  });

  test('dns_nameservers and host_routes', async () => {
    const net = await network(suite.alice.network);
    const res = await subnet(suite.alice.network, {
      network_id: net, cidr: '10.7.0.0/24', dns_nameservers: ['8.8.8.8', '1.1.1.1'],
      host_routes: [{ destination: '192.168.0.0/16', nexthop: '10.7.0.5' }],
    });
    assert.equal(res.status, 201);
    assert.deepEqual(res.body.subnet.dns_nameservers, ['8.8.8.8', '1.1.1.1']);
    assert.deepEqual(res.body.subnet.host_routes, [{ destination: '192.168.0.0/16', nexthop: '10.7.0.5' }]);
    const dup = await subnet(suite.alice.network, { network_id: net, cidr: '10.8.0.0/24', dns_nameservers: ['8.8.8.8', '8.8.8.8'] });
    assert.equal(fault(dup), '400 HTTPBadRequest');
    assert.match(dup.body.NeutronError.message, /Duplicate nameserver '8\.8\.8\.8'/);
    assert.equal(fault(await subnet(suite.alice.network, { network_id: net, cidr: '10.8.0.0/24', dns_nameservers: ['nope'] })), '400 HTTPBadRequest');
    assert.equal(fault(await subnet(suite.alice.network, { network_id: net, cidr: '10.8.0.0/24', dns_nameservers: ['1.1.1.1', '1.1.1.2', '1.1.1.3', '1.1.1.4', '1.1.1.5', '1.1.1.6'] })), '400 DNSNameServersExhausted');
    assert.equal(fault(await subnet(suite.alice.network, { network_id: net, cidr: '10.8.0.0/24', host_routes: [{ destination: '192.168.0.0/16' }] })), '400 HTTPBadRequest');
  });

  test('IPv6: SLAAC subnets and their mode rules; ports get EUI-64 addresses', async () => {
    const net = await network(suite.alice.network);
    const v6 = (body: Record<string, unknown>) => subnet(suite.alice.network, { network_id: net, ip_version: 6, ...body });
    const res = await v6({ cidr: '2001:DB8:1::/64', ipv6_ra_mode: 'slaac', ipv6_address_mode: 'slaac' });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    const s = res.body.subnet;
    assert.equal(s.cidr, '2001:db8:1::/64');
    assert.equal(s.gateway_ip, '2001:db8:1::1');
    assert.deepEqual(s.allocation_pools, [{ start: '2001:db8:1::2', end: '2001:db8:1:0:ffff:ffff:ffff:ffff' }]); // RFC 5952: one zero group is not shortened
    assert.equal(s.ipv6_ra_mode, 'slaac');
    assert.equal(s.ipv6_address_mode, 'slaac');
    assert.equal(fault(await v6({ cidr: '2001:db8:2::/80', ipv6_address_mode: 'slaac' })), '400 InvalidInput', 'SLAAC needs a /64');
    assert.equal(fault(await v6({ cidr: '2001:db8:2::/64', ipv6_ra_mode: 'slaac', ipv6_address_mode: 'dhcpv6-stateful' })), '400 InvalidInput');
    assert.equal(fault(await v6({ cidr: '2001:db8:2::/64', ipv6_address_mode: 'slaac', enable_dhcp: false })), '400 InvalidInput');
    assert.equal(fault(await v6({ cidr: '2001:db8:2::/64', ipv6_address_mode: 'bogus' })), '400 HTTPBadRequest');
    assert.equal(fault(await subnet(suite.alice.network, { network_id: net, cidr: '10.9.0.0/24', ipv6_ra_mode: 'slaac' })), '400 InvalidInput');
    const port = await suite.alice.network.send('POST', '/v2.0/ports', { body: { port: { network_id: net, mac_address: 'fa:16:3e:12:34:56' } } });
    assert.equal(port.status, 201, JSON.stringify(port.body));
    assert.deepEqual(port.body.port.fixed_ips, [{ subnet_id: s.id, ip_address: '2001:db8:1:0:f816:3eff:fe12:3456' }]);
  });

  test('update: mutable attributes, revision bump, read-only cidr', async () => {
    const net = await network(suite.alice.network);
    const s = (await subnet(suite.alice.network, { network_id: net, cidr: '10.10.0.0/24' })).body.subnet;
    const up = await suite.alice.network.send('PUT', `/v2.0/subnets/${s.id}`, { body: { subnet: { name: 'renamed', dns_nameservers: ['9.9.9.9'], enable_dhcp: false } } });
    assert.equal(up.status, 200, JSON.stringify(up.body));
    assert.equal(up.body.subnet.name, 'renamed');
    assert.deepEqual(up.body.subnet.dns_nameservers, ['9.9.9.9']);
    assert.equal(up.body.subnet.enable_dhcp, false);
    assert.equal(up.body.subnet.revision_number, 1);
    const gwInPool = await suite.alice.network.send('PUT', `/v2.0/subnets/${s.id}`, { body: { subnet: { gateway_ip: '10.10.0.5' } } });
    assert.equal(fault(gwInPool), '409 GatewayConflictWithAllocationPools');
    const both = await suite.alice.network.send('PUT', `/v2.0/subnets/${s.id}`, { body: { subnet: { gateway_ip: '10.10.0.254', allocation_pools: [{ start: '10.10.0.1', end: '10.10.0.200' }] } } });
    assert.equal(both.status, 200);
    assert.equal(both.body.subnet.gateway_ip, '10.10.0.254');
    assert.deepEqual(both.body.subnet.allocation_pools, [{ start: '10.10.0.1', end: '10.10.0.200' }]);
    assert.equal(both.body.subnet.revision_number, 2);
    assert.equal(fault(await suite.alice.network.send('PUT', `/v2.0/subnets/${s.id}`, { body: { subnet: { cidr: '10.11.0.0/24' } } })), '400 HTTPBadRequest');
    assert.equal(fault(await suite.alice.network.send('PUT', `/v2.0/subnets/${s.id}`, { body: { subnet: { gateway_ip: '10.99.0.1' } } })), '400 InvalidInput');
  });

  test('visibility, policy and delete (in use is a 409)', async () => {
    const net = await network(suite.alice.network);
    const s = (await subnet(suite.alice.network, { network_id: net, cidr: '10.12.0.0/24' })).body.subnet;
    // another project's private network and subnet are 404s
    assert.equal(fault(await subnet(suite.bob.network, { network_id: net, cidr: '10.13.0.0/24' })), '404 NetworkNotFound');
    assert.equal(fault(await suite.bob.network.send('GET', `/v2.0/subnets/${s.id}`)), '404 SubnetNotFound');
    assert.equal(fault(await suite.bob.network.send('DELETE', `/v2.0/subnets/${s.id}`)), '404 SubnetNotFound');
    assert.ok(!(await suite.bob.network.send('GET', '/v2.0/subnets')).body.subnets.some((x: any) => x.id === s.id));
    // a shared network's subnets are visible to all, but only its owner or an admin adds subnets
    const shared = await network(suite.cloud.network, { shared: true });
    const sharedSubnet = (await subnet(suite.cloud.network, { network_id: shared, cidr: '10.14.0.0/24' })).body.subnet;
    assert.equal((await suite.bob.network.send('GET', `/v2.0/subnets/${sharedSubnet.id}`)).status, 200);
    assert.equal(fault(await subnet(suite.bob.network, { network_id: shared, cidr: '10.15.0.0/24' })), '403 PolicyNotAuthorized');
    assert.equal(fault(await subnet(suite.alice.network, { network_id: '00000000-0000-0000-0000-000000000000', cidr: '10.15.0.0/24' })), '404 NetworkNotFound');
    // an external network that is not shared: everyone sees the network, nobody else its subnets
    const external = await network(suite.cloud.network, { 'router:external': true });
    const externalSubnet = (await subnet(suite.cloud.network, { network_id: external, cidr: '10.16.0.0/24' })).body.subnet;
    assert.equal((await suite.bob.network.send('GET', `/v2.0/networks/${external}`)).status, 200);
    assert.equal(fault(await suite.bob.network.send('GET', `/v2.0/subnets/${externalSubnet.id}`)), '404 SubnetNotFound');
    assert.deepEqual((await suite.bob.network.send('GET', `/v2.0/subnets?network_id=${external}`)).body.subnets, []);

    const port = await suite.alice.network.send('POST', '/v2.0/ports', { body: { port: { network_id: net, fixed_ips: [{ subnet_id: s.id }] } } });
    assert.equal(port.status, 201, JSON.stringify(port.body));
    const inUse = await suite.alice.network.send('DELETE', `/v2.0/subnets/${s.id}`);
    assert.equal(fault(inUse), '409 SubnetInUse');
    assert.equal(inUse.body.NeutronError.message, `Unable to complete operation on subnet ${s.id}: One or more ports have an IP allocation from this subnet.`);
    assert.equal((await suite.alice.network.send('DELETE', `/v2.0/ports/${port.body.port.id}`)).status, 204);
    assert.equal((await suite.alice.network.send('DELETE', `/v2.0/subnets/${s.id}`)).status, 204);
    assert.equal(fault(await suite.alice.network.send('GET', `/v2.0/subnets/${s.id}`)), '404 SubnetNotFound');
  });

  test('bulk create and the subnet quota', async () => {
    const carol = await suite.cloud.projectUser('member');
    const net = await network(carol.network);
    const bulk = await carol.network.send('POST', '/v2.0/subnets', { body: { subnets: [
      { network_id: net, ip_version: 4, cidr: '10.16.0.0/24' },
      { network_id: net, ip_version: 4, cidr: '10.17.0.0/24' },
    ] } });
    assert.equal(bulk.status, 201, JSON.stringify(bulk.body));
    assert.deepEqual(bulk.body.subnets.map((x: any) => x.cidr), ['10.16.0.0/24', '10.17.0.0/24']);
    const badBulk = await carol.network.send('POST', '/v2.0/subnets', { body: { subnets: [
      { network_id: net, ip_version: 4, cidr: '10.18.0.0/24' },
      { network_id: net, ip_version: 4, cidr: '10.18.0.0/25' },
    ] } });
    assert.equal(fault(badBulk), '400 InvalidInput');
    assert.equal((await carol.network.send('GET', `/v2.0/subnets?network_id=${net}`)).body.subnets.length, 2, 'a failed bulk creates nothing');
    const quota = await suite.cloud.network.send('PUT', `/v2.0/quotas/${carol.projectId}`, { body: { quota: { subnet: 2 } } });
    assert.equal(quota.status, 200, JSON.stringify(quota.body));
    const over = await subnet(carol.network, { network_id: net, cidr: '10.19.0.0/24' });
    assert.equal(fault(over), '409 OverQuota');
  });

  test('subnet pools: prefixes, allocation until exhausted, policy', async () => {
    const created = await suite.alice.network.send('POST', '/v2.0/subnetpools', { body: { subnetpool: { name: 'pool', prefixes: ['10.100.0.0/25', '10.100.0.128/25'], default_prefixlen: 26 } } });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const pool = created.body.subnetpool;
    assert.deepEqual(pool.prefixes, ['10.100.0.0/24'], 'prefixes are compacted');
    assert.equal(pool.ip_version, 4);
    assert.equal(pool.min_prefixlen, 8);
    assert.equal(pool.max_prefixlen, 32);
    assert.equal(pool.default_prefixlen, 26);
    assert.equal(pool.shared, false);
    assert.equal(pool.is_default, false);
    assert.equal(pool.address_scope_id, null);
    assert.equal(pool.tenant_id, suite.alice.projectId);
    const net = await network(suite.alice.network);
    const cidrs: string[] = [];
    for (let i = 0; i < 4; i++) {
      const res = await subnet(suite.alice.network, { network_id: net, subnetpool_id: pool.id });
      assert.equal(res.status, 201, JSON.stringify(res.body));
      assert.equal(res.body.subnet.subnetpool_id, pool.id);
      cidrs.push(res.body.subnet.cidr);
    }
    assert.deepEqual(cidrs, ['10.100.0.0/26', '10.100.0.64/26', '10.100.0.128/26', '10.100.0.192/26']);
    assert.equal(cidrs.length, 4);
    const exhausted = await subnet(suite.alice.network, { network_id: await network(suite.alice.network), subnetpool_id: pool.id });
    assert.equal(fault(exhausted), '409 SubnetAllocationError');
    assert.equal(exhausted.body.NeutronError.message, 'Failed to allocate subnet: Insufficient prefix space to allocate subnet size /26.');
    assert.equal(fault(await suite.alice.network.send('DELETE', `/v2.0/subnetpools/${pool.id}`)), '400 SubnetPoolDeleteError');

    const big = (await suite.alice.network.send('POST', '/v2.0/subnetpools', { body: { subnetpool: { name: 'big', prefixes: ['10.200.0.0/16'], min_prefixlen: 20, max_prefixlen: 28, default_prefixlen: 24 } } })).body.subnetpool;
    const net2 = await network(suite.alice.network);
    const sized = await subnet(suite.alice.network, { network_id: net2, subnetpool_id: big.id, prefixlen: 28 });
    assert.equal(sized.body.subnet.cidr, '10.200.0.0/28');
    assert.equal(sized.body.subnet.gateway_ip, '10.200.0.1');
    const specific = await subnet(suite.alice.network, { network_id: net2, subnetpool_id: big.id, cidr: '10.200.64.0/24' });
    assert.equal(specific.status, 201);
    assert.equal(fault(await subnet(suite.alice.network, { network_id: net2, subnetpool_id: big.id, cidr: '10.201.0.0/24' })), '409 SubnetAllocationError');
    assert.equal(fault(await subnet(suite.alice.network, { network_id: net2, subnetpool_id: big.id, prefixlen: 30 })), '400 MaxPrefixSubnetAllocationError');
    assert.equal(fault(await subnet(suite.alice.network, { network_id: net2, subnetpool_id: big.id, prefixlen: 16 })), '400 MinPrefixSubnetAllocationError');
    assert.equal(fault(await subnet(suite.alice.network, { network_id: net2, cidr: '10.210.0.0/24' })), '400 NetworkSubnetPoolAffinityError');

    // visibility and admin-only attributes
    assert.equal(fault(await suite.bob.network.send('GET', `/v2.0/subnetpools/${big.id}`)), '404 SubnetPoolNotFound');
    assert.equal(fault(await subnet(suite.bob.network, { network_id: await network(suite.bob.network), subnetpool_id: big.id })), '404 SubnetPoolNotFound');
    assert.equal(fault(await suite.bob.network.send('POST', '/v2.0/subnetpools', { body: { subnetpool: { name: 's', prefixes: ['10.210.0.0/16'], shared: true } } })), '403 PolicyNotAuthorized');
    assert.equal(fault(await suite.bob.network.send('POST', '/v2.0/subnetpools', { body: { subnetpool: { name: 's', prefixes: ['10.210.0.0/16', '2001:db8::/32'] } } })), '400 PrefixVersionMismatch');
    assert.equal(fault(await suite.bob.network.send('POST', '/v2.0/subnetpools', { body: { subnetpool: { name: 's', prefixes: ['10.210.0.0/16'], min_prefixlen: 24, default_prefixlen: 16 } } })), '400 IllegalSubnetPoolPrefixBounds');
    assert.equal(fault(await suite.bob.network.send('POST', '/v2.0/subnetpools', { body: { subnetpool: { prefixes: ['10.210.0.0/16'] } } })), '400 HTTPBadRequest');

    const grown = await suite.alice.network.send('PUT', `/v2.0/subnetpools/${big.id}`, { body: { subnetpool: { prefixes: ['10.200.0.0/16', '10.202.0.0/16'], name: 'bigger' } } });
    assert.equal(grown.status, 200, JSON.stringify(grown.body));
    assert.deepEqual(grown.body.subnetpool.prefixes, ['10.200.0.0/16', '10.202.0.0/16']);
    assert.equal(grown.body.subnetpool.revision_number, 1);
    assert.equal(fault(await suite.alice.network.send('PUT', `/v2.0/subnetpools/${big.id}`, { body: { subnetpool: { prefixes: ['10.202.0.0/16'] } } })), '400 IllegalSubnetPoolPrefixUpdate');

    // one default pool per IP version, used by use_default_subnetpool
    const def = await suite.cloud.network.send('POST', '/v2.0/subnetpools', { body: { subnetpool: { name: 'default', prefixes: ['172.30.0.0/16'], default_prefixlen: 24, is_default: true, shared: true } } });
    assert.equal(def.status, 201, JSON.stringify(def.body));
    assert.equal(fault(await suite.cloud.network.send('POST', '/v2.0/subnetpools', { body: { subnetpool: { name: 'd2', prefixes: ['172.31.0.0/16'], is_default: true } } })), '400 InvalidInput');
    const fromDefault = await subnet(suite.bob.network, { network_id: await network(suite.bob.network), use_default_subnetpool: true });
    assert.equal(fromDefault.status, 201, JSON.stringify(fromDefault.body));
    assert.equal(fromDefault.body.subnet.cidr, '172.30.0.0/24');
    assert.equal(fromDefault.body.subnet.subnetpool_id, def.body.subnetpool.id);
    assert.ok((await suite.bob.network.send('GET', '/v2.0/subnetpools')).body.subnetpools.some((p: any) => p.id === def.body.subnetpool.id), 'shared pools are listed for everyone');
  });

  test('network IP availability (admin only)', async () => {
    const net = await network(suite.alice.network, { name: 'avail' });
    const s = (await subnet(suite.alice.network, { network_id: net, cidr: '10.30.0.0/24' })).body.subnet;
    for (let i = 0; i < 3; i++) assert.equal((await suite.alice.network.send('POST', '/v2.0/ports', { body: { port: { network_id: net } } })).status, 201);
    const shown = await suite.cloud.network.send('GET', `/v2.0/network-ip-availabilities/${net}`);
    assert.equal(shown.status, 200, JSON.stringify(shown.body));
    assert.deepEqual(shown.body.network_ip_availability, {
      network_id: net, network_name: 'avail', project_id: suite.alice.projectId, tenant_id: suite.alice.projectId, total_ips: 253, used_ips: 3,
      subnet_ip_availability: [{ subnet_id: s.id, subnet_name: '', cidr: '10.30.0.0/24', ip_version: 4, total_ips: 253, used_ips: 3 }],
    });
    const listed = await suite.cloud.network.send('GET', `/v2.0/network-ip-availabilities?network_id=${net}`);
    assert.equal(listed.body.network_ip_availabilities.length, 1);
    assert.equal(listed.body.network_ip_availabilities[0].used_ips, 3);
    const v6only = await suite.cloud.network.send('GET', `/v2.0/network-ip-availabilities?network_id=${net}&ip_version=6`);
    assert.deepEqual(v6only.body.network_ip_availabilities, []);
    assert.equal(fault(await suite.alice.network.send('GET', `/v2.0/network-ip-availabilities/${net}`)), '403 PolicyNotAuthorized');
    assert.equal(fault(await suite.cloud.network.send('GET', '/v2.0/network-ip-availabilities/00000000-0000-0000-0000-000000000000')), '404 NetworkNotFound');
  });
});
